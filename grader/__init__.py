"""Grader of the MNIST fully connected network assignment.

Kept import-light: ``python -m grader`` must not import TensorFlow in its own
process (only the sandboxed worker does).
"""
