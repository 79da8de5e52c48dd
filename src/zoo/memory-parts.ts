/**
 * Pieces the zoo's memory models (NTM, DNC, Dynamic NTM) share: the controller they put in front
 * of their memory and the linear maps from its state that emit each head's keys and gates.
 */
import { add, block, concat, matmul, named, param, tanh, inits, type Tensor } from "../lang";

/** h W_out + b_out from the controller state h [B, NController]: a fresh weight and bias named after `out`, in the current block. */
export const linear = (h: Tensor, out: string, size: string | number) => add(matmul(h, param(`W_${out}`, ["NController", size])), param(`b_${out}`, [size]));

/**
 * The feed-forward controller, block `controller`: h = tanh([inputs] W + b) [B, NController].
 * `inSize` names the width of the joined inputs (`"NInput+W"`).
 */
export const controller = (inputs: Tensor[], inSize: string) =>
  block("controller", "Controller", () => named("h", tanh(add(matmul(concat(inputs, -1), param("W", [inSize, "NController"], { init: inits.glorot() })), param("b", ["NController"])))));
