/**
 * The peephole ("vanilla") LSTM and the eight variants of Greff et al. (2017), "LSTM: A Search
 * Space Odyssey", IEEE TNNLS 28(10). Each variant is its own definition; they are built by one
 * function because each differs from vanilla in exactly the one place the paper names.
 */
import { defineCell, type CellDef, type Handle } from "../define";

const GREFF = "Greff, K., Srivastava, R. K., Koutník, J., Steunebrink, B. R. & Schmidhuber, J. (2017). LSTM: A search space odyssey. IEEE TNNLS 28(10).";
const PEEPHOLE = "Gers, F. A. & Schmidhuber, J. (2000). Recurrent nets that time and count. IJCNN.";

/** What one Greff variant changes in the vanilla (peephole) LSTM. */
export type GreffVariant = "vanilla" | "NIG" | "NFG" | "NOG" | "NIAF" | "NOAF" | "NP" | "CIFG" | "FGR";

const TITLES: Record<GreffVariant, string> = {
  vanilla: "Peephole LSTM (Greff's vanilla)",
  NIG: "LSTM, no input gate (i = 1)",
  NFG: "LSTM, no forget gate (f = 1)",
  NOG: "LSTM, no output gate (o = 1)",
  NIAF: "LSTM, no input activation function (g linear)",
  NOAF: "LSTM, no output activation function (h = o ⊙ c)",
  NP: "LSTM, no peepholes",
  CIFG: "LSTM, coupled input and forget gate (f = 1 − i)",
  FGR: "LSTM, full gate recurrence",
};

function greff(variant: GreffVariant): CellDef {
  const fgr = variant === "FGR";
  const peep = variant !== "NP";
  return defineCell(
    {
      name: variant === "vanilla" ? "PEEPHOLE_LSTM" : `LSTM_${variant}`,
      title: TITLES[variant],
      citation: variant === "vanilla" ? `${PEEPHOLE} ${GREFF}` : GREFF,
      notes: ["Peepholes: i and f see the old cell c[t−1]; o sees the new cell c. ONNX stores P as [i, o, f]."],
      inputs: { x: "In" },
      states: (fgr ? { h: "H", c: "H", i: "H", f: "H", o: "H" } : { h: "H", c: "H" }) as Record<string, string>,
    },
    (s, op) => {
      const { x, h, c } = s;
      /** A gate's pre-activation: W x + U h₋ (+ p ⊙ cell) (+ FGR's recurrences from every gate) + b. */
      const pre = (name: string, cell: Handle | null) => {
        const terms: Record<string, Handle | ReturnType<typeof op.diag>> = { [`W_${name}`]: x, [`U_${name}`]: h };
        if (cell && peep) terms[`p_${name}`] = op.diag(cell);
        if (fgr && name !== "g") for (const from of ["i", "f", "o"]) terms[`R_${name}${from}`] = (s as Record<string, Handle>)[from];
        return op.affine(`${name}_pre`, "H", terms, `b_${name}`, { label: `${name}̄` });
      };
      const gPre = pre("g", null);
      const g = variant === "NIAF" ? op.identity("g", gPre, { role: "candidate" }) : op.tanh("g", gPre, { role: "candidate" });
      const i = variant === "NIG" ? null : op.sigmoid("i", pre("i", c));
      const f = variant === "NFG" ? null : variant === "CIFG" ? op.oneMinus("f", i!, { role: "gate" }) : op.sigmoid("f", pre("f", c));
      const kept = f ? op.mul("f_c", f, c, { label: "f⊙c[t−1]" }) : null;
      const written = i ? op.mul("i_g", i, g, { label: "i⊙g" }) : null;
      const cNew = op.add("c", kept ?? c, written ?? g);
      const o = variant === "NOG" ? null : op.sigmoid("o", pre("o", cNew));
      const squashed = variant === "NOAF" ? cNew : op.tanh("tanh_c", cNew, { label: "tanh(c)" });
      const hNew = o ? op.mul("h", o, squashed) : op.identity("h", squashed);
      const next: Record<string, Handle> = { h: hNew, c: cNew };
      return fgr ? { ...next, i: i!, f: f!, o: o! } : next;
    },
  );
}

/** Peephole LSTM (Gers & Schmidhuber 2000), the "vanilla" LSTM of Greff et al. */
export const PEEPHOLE_LSTM = greff("vanilla");
/** Greff's NIG: no input gate. */
export const LSTM_NIG = greff("NIG");
/** Greff's NFG: no forget gate. */
export const LSTM_NFG = greff("NFG");
/** Greff's NOG: no output gate. */
export const LSTM_NOG = greff("NOG");
/** Greff's NIAF: no input activation function. */
export const LSTM_NIAF = greff("NIAF");
/** Greff's NOAF: no output activation function. */
export const LSTM_NOAF = greff("NOAF");
/** Greff's NP: no peepholes. */
export const LSTM_NP = greff("NP");
/** Greff's CIFG: coupled input and forget gate, f = 1 − i. */
export const LSTM_CIFG = greff("CIFG");
/** Greff's FGR: full gate recurrence (every gate sees all three gates at t−1). */
export const LSTM_FGR = greff("FGR");
