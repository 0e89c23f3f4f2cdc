"""Kept package name (a contract): Gradescope lives in ``grader.platforms.gradescope``.

``grader.gradescope.autograder_zip`` and ``grader.gradescope.run`` are that
package's ``packager`` and ``runner`` under their old names.
"""
