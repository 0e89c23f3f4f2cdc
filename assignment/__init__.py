"""The student's folder of the MNIST activity.

``mnist_dense.py`` (the code), ``answers/`` and ``exploration.md`` (the
written parts) and ``explore/`` (``python -m assignment.explore``, which runs
the exploration's experiments). Nothing is imported here: importing the
package must stay cheap and must not load TensorFlow.
"""
