"""Text from a submission is data: escape it for the format it lands in.

One function per format, used by every exporter:

- :func:`markdown_text`: one line of GitHub-flavoured Markdown that renders
  as the text itself (the job summary, the Classroom 50 release body, the
  class report's ``report.md``): no HTML, no link, no emphasis, no table
  break, no heading or list started by the text.
- :func:`markdown_code`: the same inside a ``code span`` of a catalogue message.
- :func:`html_text`: HTML text (markupsafe, as Jinja2's autoescape does).
- :func:`workflow_data` / :func:`workflow_property`: the message and the
  properties of a GitHub Actions workflow command (``::error title=...::msg``),
  escaped as ``@actions/core`` does (``%``, CR, LF; and ``:`` ``,`` in
  properties), so that no text can end the command or start another.

GFM still links an e-mail address to itself (its text shows unchanged): no
escape stops that. Gradescope's ``output`` needs none: its ``test_output_format`` is ``text``.
"""

from __future__ import annotations

import re

import markupsafe

# Inline Markdown: backslash escapes (CommonMark: any ASCII punctuation may be
# escaped and then shows as itself). `\` first, so added backslashes stay.
_INLINE = "\\`*_[]|~"
# GFM autolinks: "https://x" (triggered by ":"), "www.x" (by the ".").
_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9])(:)(?=//)|(?<=\bwww)(\.)", re.IGNORECASE)
# Block starts: a line that begins with these is a heading, list, quote,
# setext underline or thematic break (the text may start a list item's line).
_BLOCK_START = re.compile(r"^([#+\-=]|\d{1,9}[.)](?=\s|$))")


def one_line(text: object) -> str:
    """``text`` on one line: control characters and runs of white space become one space."""
    chars = (" " if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" else c for c in str(text))
    return " ".join("".join(chars).split())


def markdown_text(text: object) -> str:
    """``text`` as one line of Markdown that shows literally: ``a|b`` becomes
    ``a\\|b``, ``<img>`` becomes ``&lt;img&gt;``, ``https://`` becomes ``https\\://``."""
    line = one_line(text)
    out = []
    for char in line:
        if char in _INLINE:
            out.append("\\" + char)
        elif char == "&":
            out.append("&amp;")
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        else:
            out.append(char)
    escaped = _AUTOLINK.sub(lambda m: "\\" + m.group(0), "".join(out))
    # "&gt;" at the start is not a quote any more; the other block starts get a backslash.
    return _BLOCK_START.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], escaped, count=1)


def markdown_code(text: object) -> str:
    """``text`` for the inside of a one-backtick code span (as in ``summary.not_graded``):
    one line, its backticks made quotes, so the span cannot end early."""
    return one_line(text).replace("`", "'")


def html_text(text: object) -> str:
    """``text`` escaped for HTML text or a quoted attribute value."""
    return str(markupsafe.escape(str(text)))


def workflow_data(text: object) -> str:
    """The message of a workflow command (after ``::``): ``%``, CR and LF escaped."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: object) -> str:
    """A property value of a workflow command (``title=...``): also ``:`` and ``,``."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")
