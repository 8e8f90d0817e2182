"""Shared facts about the assignment for the project's tests."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "assignment1"
SOLUTIONS = ROOT / "solutions" / ASSIGNMENT
RELEASE = ROOT / "assignments" / ASSIGNMENT
NOTEBOOKS = ("knn", "gradient_check", "svm", "softmax", "two_layer_net")
