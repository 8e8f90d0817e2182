"""Assignment 1's catalog: one module per notebook, and ``speed`` for the speed checks of knn, svm and softmax."""
