/**
 * TensorFlow.js with its backend chosen. Its own module, outside the public declarations: its type
 * would pull tfjs-core's ~300 declaration files into every notebook's TypeScript program.
 */
import * as tf from "@tensorflow/tfjs-core";
import { selectBackend, type BackendOptions } from "./backend";

/**
 * TensorFlow.js with its backend chosen: `const tf = await tensorflow()`.
 *
 * @example
 * const tf = await tensorflow();
 * tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).print();
 */
export async function tensorflow(options: BackendOptions = {}): Promise<typeof tf> {
  await selectBackend(options);
  return tf;
}
