"""Shared facts about the assignment for the project's tests."""
from pathlib import Path

from utils.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "assignment1"
SOLUTIONS = ROOT / "solutions" / ASSIGNMENT
RELEASE = ROOT / "assignments" / ASSIGNMENT
# In the manifest's order, as file stems ("knn", ...).
NOTEBOOKS = tuple(Path(name).stem for name in load_manifest(SOLUTIONS).notebooks)
