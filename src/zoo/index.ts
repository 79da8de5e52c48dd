/**
 * The architecture zoo: the models of the reference documents, each a function from sizes and
 * options to a model of the definition language (`nn`) — it computes, records every intermediate,
 * summarises itself and draws itself — carrying `meta` ({ title, citation, year, family, parents })
 * for the genealogy chart. Every entry also builds with no argument, at the reference's sizes.
 *
 * @example
 * import { zoo } from "archlab";
 * const cae = zoo.convAutoEncoder();            // [B, 256, 256, 3] → … → [B, 256, 256, 3]
 * cae.summary({ B: 1 }).totalParams;            // 28905
 * zoo.timeRnn({ NFeature: 8, NHidden: 32, NLayers: 2, NLabels: 4 }).summary({ B: 1, SeqLen: 7 });
 * zoo.esn.meta.year;                            // 2001
 */
export { convAutoEncoder, convBlock, upConvBlock } from "./conv-autoencoder";
export type { ConvAutoEncoderOptions } from "./conv-autoencoder";
export { timeRnn, nlpRnn } from "./rnns";
export type { TimeRnnOptions, NlpRnnOptions } from "./rnns";
export { esn, elm, lsm, fitReadout } from "./reservoirs";
export type { EsnOptions, ElmOptions, LsmOptions, FitReadoutOptions } from "./reservoirs";
export { seq2seqAttention } from "./seq2seq-attention";
export type { Seq2SeqAttentionOptions } from "./seq2seq-attention";
export type { ZooEntry, ZooMeta, ZooModel, ZooFamily } from "./entry";
export { ntm } from "./ntm";
export type { NtmOptions } from "./ntm";
export { dnc } from "./dnc";
export type { DncOptions } from "./dnc";
export { dynamicNtm } from "./dynamic-ntm";
export type { DynamicNtmOptions } from "./dynamic-ntm";
export { memN2N, positionEncoding } from "./memn2n";
export type { MemN2NOptions } from "./memn2n";
export { babi, babiIds, BABI_VOCAB, BABI_SENTENCE_WORDS } from "./babi";
export type { BabiOptions, BabiStory } from "./babi";
export { gnmt } from "./gnmt";
export type { GnmtOptions } from "./gnmt";
export { alexnet, vgg16, googlenet, resnet18, inception, basicBlock, resLayer, adaptiveAvgPool } from "./cnns";
export type { ImageNetOptions, ResNet18Options } from "./cnns";
export { drcn } from "./drcn";
export type { DrcnOptions } from "./drcn";
export { crmn } from "./crmn";
export type { CrmnOptions } from "./crmn";
export { capsNet } from "./capsnet";
export type { CapsNetOptions } from "./capsnet";
export { vae, gan } from "./generative";
export type { VaeOptions, GanOptions, NoiseSource } from "./generative";
export { genealogy, ZOO_NOTEBOOKS as notebooks } from "./genealogy";
export type { GenealogyOptions } from "./genealogy";
export { digits, digitsAvailable } from "./digits";
export type { DigitsOptions, Digits } from "./digits";
export { dann } from "./dann";
export type { DannOptions } from "./dann";
export { dni } from "./dni";
export type { DniOptions } from "./dni";
export { ram, glimpse } from "./ram";
export type { RamOptions } from "./ram";
export { twoMoons, spiral, brightSquares, accuracy, argmaxRows, withWeights, trainDann, dniGradients, trainDni, ramWithWeights, trainRam } from "./tricks-train";
export type { Points } from "./tricks-train";
export { copyBits } from "./copy-bits";
export type { CopyBitsOptions } from "./copy-bits";
