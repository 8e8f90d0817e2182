"""Assignment 0's catalog: one module per notebook, perceptron.ipynb and logistic_regression.ipynb.

Each entry edits one definition or tuning cell of the reference submission
(``tests.autograder.mutants.Edit``). A mutant's ``breaks`` is its own target and,
where the student's own training is affected, the tuned weights ``TUNED``: the
logistic notebook's tuning cell trains with the submission's sigmoid,
logistic_loss and sgd, and measures accuracy with perceptron.ipynb's
predict_binary. The logistic notebook loads perceptron.ipynb, so a perceptron
entry is graded on both notebooks: its mistake must cost the logistic notebook
nothing else.
"""
from tests.autograder.mutants import tuned_objects

(TUNED,) = tuned_objects("assignment0")  # best_logistic_w, the one tuned object of the manifest
