"""The Jupyter project's kernel test suite (jupyter_kernel_test, Debian's python3-jupyter-kernel-test)
run against the installed archlab kernel, with archlab's own code samples.

Run by test/kernel/suite.test.ts: python3 -m unittest kernel_test_suite (JUPYTER_DATA_DIR pointing
at the install). The suite skips what a sample is not given for: the pager (archlab has no
`?`-style help payloads).
"""
import unittest

import jupyter_kernel_test


class ArchlabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "archlab"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = "console.log('hello, world')"
    code_stderr = "console.error('to stderr')"

    completion_samples = [
        {"text": "Math.ab", "matches": {"abs"}},
        {"text": "LSTM"},
    ]

    complete_code_samples = ["1 + 1", "const x = 1;", "function f() { return 1; }", "let s = `a\nb`;"]
    incomplete_code_samples = ["function f() {", "let a = [1,", "let s = `open", "/* open comment", "1 +"]
    invalid_code_samples = ["const = ;", "x = 1)", "}", "let s = 'open string"]

    code_generate_error = "throw new Error('the suite asked for an error')"

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "'a' + 'b'", "result": "'ab'"},
        {"code": "[1, 2]", "result": "[ 1, 2 ]"},
    ]
    code_history_pattern = "6*7"
    supported_history_operations = ("tail", "range", "search")

    code_display_data = [
        {"code": "display({ [Symbol.for('Jupyter.display')]: () => ({ 'text/plain': 'x', 'text/html': '<b>x</b>' }) })", "mime": "text/html"},
        {"code": "display('plain text')", "mime": "text/plain"},
    ]

    # The cursor (at the end) inside the call's parentheses: the callee is inspected, as JupyterLab's tooltip expects.
    code_inspect_sample = "Math.max("
    code_clear_output = "clearOutput()"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The suite allows 15 s per request; on a busy machine loading TypeScript and the library
        # can take longer, so the first cell waits for that here.
        reply = cls.kc.execute_interactive("'ready'", timeout=300, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply


if __name__ == "__main__":
    unittest.main()
