/**
 * The fast path's uses of the optional native binding (src/engine/native/blas.c) next to
 * TensorFlow.js: convolutions on OpenBLAS's threads, and parameters narrowed to float32 by C. On
 * tfjs-backend-wasm both read and write the backend's own memory, skipping its copies.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type * as tfc from "@tensorflow/tfjs-core";
import { currentBackend } from "../engine/backend";
import { nativeBlas, type NativeBlas } from "../engine/native";
import * as nd from "./nd";
import { type ND } from "./nd";

/** A float32 view of a tensor's data in tfjs-backend-wasm's heap (valid until the next allocation, which may grow the heap and detach it). */
const heapView = (wasm: BackendWasm, t: tfc.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array;

/**
 * Output channels from which a convolution goes native. OpenBLAS's product is slow for a narrow
 * result (measured on two cores: 256×256 3→16 and 16→3 and 128×128 32→16 took 1.2–2.1× XNNPACK's
 * time), fast from 32 (128×128 16→32: 0.45×; ResNet-18's 64–512: 0.2–0.6×).
 */
export const NATIVE_MIN_COUT = 32;

/**
 * The native binding for a float32 convolution with at least {@link NATIVE_MIN_COUT} output
 * channels on the WebAssembly or CPU backend, when it is loaded: tfjs-backend-wasm's convolution
 * (XNNPACK) runs on one thread, OpenBLAS's on every core. tfjs-node's own kernels are as fast; they stay.
 */
export function nativeConvolution(x: tfc.Tensor, w: tfc.Tensor): NativeBlas | undefined {
  if (x.dtype !== "float32" || w.dtype !== "float32" || (w.shape[3] ?? 0) < NATIVE_MIN_COUT || currentBackend() === "tensorflow") return undefined;
  return nativeBlas();
}

/**
 * {@link nd.conv2d} in float32 by the native binding. On the WebAssembly backend the binding reads
 * the operands and writes the result in the backend's own memory: its `dataSync` copies (~40 ms for
 * ResNet-18's 11 M filter values, as long as the convolutions themselves) are skipped. The result
 * is allocated first: an allocation may grow that memory, which detaches earlier views of it.
 */
export function nativeConv2d(tf: typeof tfc, blas: NativeBlas, x: tfc.Tensor, w: tfc.Tensor, stride: number, pad: number | "same" | "valid", dilation: number): tfc.Tensor {
  const [B, H, W, C] = x.shape;
  const [KH, KW, , CO] = w.shape;
  const [top, , OH] = nd.padding(pad, H, (KH - 1) * dilation + 1, stride);
  const [left, , OW] = nd.padding(pad, W, (KW - 1) * dilation + 1, stride);
  const geometry = [B, H, W, C, KH, KW, CO, stride, top, left, dilation, OH, OW] as const;
  if (currentBackend() === "wasm") {
    const wasm = tf.backend() as BackendWasm;
    const out = wasm.makeOutput([B, OH, OW, CO], "float32");
    blas.conv2d(heapView(wasm, x), heapView(wasm, w), heapView(wasm, out), geometry);
    return tf.engine().makeTensorFromTensorInfo(out);
  }
  const out = new Float32Array(B * OH * OW * CO);
  blas.conv2d(x.dataSync() as Float32Array, w.dataSync() as Float32Array, out, geometry);
  return tf.tensor(out, [B, OH, OW, CO], "float32");
}

/**
 * A host value as a float32 tensor. A Float64Array (a model's parameters: ResNet-18 has 11.7 M)
 * is narrowed by the binding when it is loaded — V8's `new Float32Array(float64)` took ~65 ms of
 * ResNet-18's run — straight into the WebAssembly backend's memory there.
 */
export function float32Tensor(tf: typeof tfc, v: ND): tfc.Tensor {
  const blas = nativeBlas();
  const shape = [...v.shape];
  if (!blas || !(v.data instanceof Float64Array) || v.data.length === 0)
    return tf.tensor(v.data instanceof Float32Array ? v.data : Float32Array.from(v.data), shape, "float32");
  if (currentBackend() === "wasm") {
    const wasm = tf.backend() as BackendWasm;
    const out = wasm.makeOutput(shape, "float32");
    blas.narrow(v.data, heapView(wasm, out));
    return tf.engine().makeTensorFromTensorInfo(out);
  }
  const out = new Float32Array(v.data.length);
  blas.narrow(v.data, out);
  return tf.tensor(out, shape, "float32");
}
