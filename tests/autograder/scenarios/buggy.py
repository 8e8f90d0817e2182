"""Honest mistakes: exceptions, syntax errors, non-finite values, wrong shapes and types, slow code.

Each costs the tests of its own target, with a message that names the mistake,
and nothing else.
"""
from tests.autograder.scenarios import TIMEOUT, Scenario, inside, returning, top

F = "buggy"

VECTORIZED_CONTRACT = ("svm.svm_loss_vectorized.returns_a_number_and_a_D_by_C_array_and_leaves_inputs_unchanged"
                       "[vectorized]")

SCENARIOS = [
    inside("sgd_step", "raises_zero_division", F, "1 / 0", hits=("sgd_step",), cause=("ZeroDivisionError",)),
    top("rel_error", "syntax_error_in_a_cell", F, after="def broken(:\n    pass", hits=("rel_error",),
        cause=("SyntaxError",), repeat=True),
    returning("sgd_step", "returns_nan", F, "return np.full(w.shape, np.nan)", hits=("sgd_step",), cause=("NaN",)),
    returning("rel_error", "returns_infinity", F, 'return float("inf")', hits=("rel_error",),
              cause=("infinite", "infinity", "NaN")),
    returning("sample_batch", "broadcastable_column_instead_of_a_vector", F, "return X_batch, y_batch[:, None]",
              hits=("sample_batch",), cause=("shape",), repeat=True),
    returning("eval_numerical_gradient", "transposed_gradient", F, "return grad.T",
              hits=("eval_numerical_gradient",), cause=("shape",)),
    returning("sgd_step", "list_instead_of_an_array", F, "return new_w.tolist()", hits=("sgd_step",),
              cause=("numpy array", "list")),
    returning("svm_loss_vectorized", "zero_d_array_instead_of_a_float", F, "return np.array(loss), dW",
              hits=(VECTORIZED_CONTRACT,), cause=("number", "float"),
              why="a contract detail costs the one check of the contract, never the value tests"),
    returning("sample_batch", "labels_as_floats", F, "return X_batch, y_batch.astype(np.float64)",
              hits=("sample_batch",), cause=("dtype",)),
    Scenario("mutates_its_inputs", F, cell="sgd_step", old="    new_w = w - learning_rate * dw",
             new="    w -= learning_rate * dw\n    new_w = w", hits=("sgd_step",), cause=("modified",)),
    Scenario("relies_on_a_global_of_an_ungraded_cell", F, cell="rel_error",
             old="np.maximum(1e-8, np.abs(x) + np.abs(y))", new="np.maximum(FLOOR, np.abs(x) + np.abs(y))",
             hits=("rel_error",), cause=("NameError",)),
    inside("sgd_step", "prints_100_megabytes", F, 'for _ in range(100):\n    print("x" * (1 << 20))',
           max_seconds=60, why="prints go nowhere: it grades as the reference"),
    inside("sgd_step", "warns_and_writes_to_stderr", F,
           'import os, sys, warnings\nwarnings.warn("careful")\nsys.stderr.write("oops\\n")\nos.write(2, b"oops")',
           why="stderr and warnings cost nothing"),
    Scenario("correct_but_very_slow", F, cell="eval_numerical_gradient",
             old="        f_plus = float(f(x))",
             new="        import time\n        done = time.process_time() + 1\n        while time.process_time() < done:\n"
                 "            pass\n        f_plus = float(f(x))",
             hits=("eval_numerical_gradient",), cause=TIMEOUT, max_seconds=60),
    Scenario("renamed_function", F, cell="sgd_step", old="def sgd_step(w, dw, learning_rate):",
             new="def sgd_update(w, dw, learning_rate):", hits=("sgd_step",), cause=("not defined",)),
    Scenario("wrong_signature", F, cell="sgd_step", old="def sgd_step(w, dw, learning_rate):",
             new="def sgd_step(w, dw):\n    learning_rate = 0.1", hits=("sgd_step",), cause=("TypeError",)),
    Scenario("answers_cached_between_tests", F, cell="rel_error", old="    return worst",
             new="    import builtins\n    if not hasattr(builtins, '_first_answer'):\n"
                 "        builtins._first_answer = worst\n    return builtins._first_answer",
             hits=("rel_error",), cause=("does not match", "mishandles", "is wrong")),
    inside("rel_error", "infinite_recursion", F, "return rel_error(x, y)", hits=("rel_error",),
           cause=("RecursionError",)),
    inside("svm_loss_naive", "naive_loss_fails_on_large_inputs", F,
           'if X.shape[0] > 100:\n    raise ValueError("too many examples")', hits=("svm_loss_naive",),
           must_lose=False, cause=("ValueError",),
           why="the vectorized version's speed test falls back to the reference's loops: it keeps its points"),
]
