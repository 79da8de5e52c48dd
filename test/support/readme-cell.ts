/** The README's own user-defined cell, as a reader types it (diagram tests draw it). */
import { defineCell } from "../../src/cells";

export const MyRNN = defineCell(
  { name: "MyRNN", title: "Elman RNN", citation: "Elman 1990", inputs: { x: "In" }, states: { h: "H" } },
  ({ x, h }, op) => ({ h: op.tanh("h", op.affine("h_pre", "H", { W: x, U: h }, "b")) }),
);
