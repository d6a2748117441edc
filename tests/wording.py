"""Checks that a page reads in Russian: the wording that still contains English."""

import re
from html.parser import HTMLParser

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}

#: Tags whose text is the page's own wording (headings, labels, buttons, table headers).
WORDING_TAGS = {"title", "h1", "h2", "h3", "legend", "label", "th", "button", "summary", "dt"}


class _Wording(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in WORDING_TAGS:
            self.open.append(tag)
            self.texts.append("")

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data):
        if self.open:
            self.texts[-1] += data


def english_wording(html: str, names: set[str]) -> list[str]:
    """The headings, labels, buttons and table headers of ``html`` that still contain an
    English word once the given names (catalogue data, the customer's name) are taken out."""
    parser = _Wording()
    parser.feed(html)
    left = []
    for text in parser.texts:
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(name, "")
        # Acronyms (PDF, CSV, CRM, IVR) read the same in both languages.
        if re.search(r"\b(?=[A-Za-z]*[a-z])[A-Za-z]{3,}\b", text):
            left.append(" ".join(text.split()))
    return left
