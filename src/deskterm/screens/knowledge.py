"""The knowledge panel (``K`` on a ticket): suggested articles, similar solved tickets.

Articles come ranked for the ticket (its subject and the customer's latest messages);
typing searches the knowledge base instead. Enter puts the highlighted article's text
into the reply (``ctrl+l`` a link to it) and logs the use; on a similar ticket, Enter
opens it. ``ctrl+n`` drafts a new article from this ticket's notes in ``$EDITOR``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from deskterm.screens.base import DeskNode
from deskterm.screens.format import line
from deskterm.textsafe import clean_text

if TYPE_CHECKING:
    from deskterm.kb.suggest import Similar, Suggestion


@dataclass(frozen=True)
class KnowledgeChoice:
    """What the agent chose: text for the reply, or a similar ticket to open."""

    text: str | None = None
    open_ticket: int | None = None
    numbers: tuple[int, ...] = ()


class KnowledgeScreen(DeskNode, ModalScreen[KnowledgeChoice | None]):
    """Articles and similar solved tickets for one ticket, with a preview."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close"),
        Binding("ctrl+l", "insert('link')", "Insert a link to the article"),
        Binding("ctrl+n", "draft", "Draft an article from this ticket's notes"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.articles: list[Suggestion] = []
        self.similar: list[Similar] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="kb-dialog"):
            yield Static(
                Content.styled(f"Knowledge for #{self.number}", "bold"), classes="dialog-title"
            )
            yield Input(placeholder="search articles (empty: suggested for this ticket)",
                        id="kb-query", compact=True)  # fmt: skip
            with Horizontal(id="kb-body"):
                with Vertical(id="kb-lists"):
                    yield Static(Content.styled("Articles", "bold"))
                    yield OptionList(id="kb-articles")
                    yield Static(Content.styled("Similar solved tickets", "bold"))
                    yield OptionList(id="kb-similar")
                with VerticalScroll(id="kb-preview-box"):
                    yield Static(id="kb-preview")
            yield Static(
                Content.styled(
                    "Enter inserts / opens · ^L link · Tab moves · ^N new article · Esc", "dim"
                )
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        for options in self.query(OptionList):
            options.loading = True
        self._suggest()
        self._similar()

    @property
    def folder(self) -> Path:
        from deskterm.kb.settings import kb_folder

        return kb_folder(self.desk.config, self.desk.store.location)

    # -- loading -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="kb-articles", exit_on_error=False)
    def _suggest(self) -> None:
        from deskterm.kb.suggest import suggest_articles

        found = suggest_articles(self.desk.store, self.folder, self.number, limit=10)
        self.app.call_from_thread(self._show_articles, found)

    @work(thread=True, exclusive=True, group="kb-articles", exit_on_error=False)
    def _search(self, query: str) -> None:
        from deskterm.kb.suggest import search_articles

        found = search_articles(self.desk.store, self.folder, query, limit=10)
        self.app.call_from_thread(self._show_articles, found)

    @work(thread=True, exclusive=True, group="kb-similar", exit_on_error=False)
    def _similar(self) -> None:
        from deskterm.kb.suggest import similar_tickets

        found = similar_tickets(self.desk.store, self.number)
        self.app.call_from_thread(self._show_similar, found)

    def _show_articles(self, found: list[Suggestion]) -> None:
        self.articles = found
        options = self.query_one("#kb-articles", OptionList)
        options.loading = False
        options.clear_options()
        for s in found:
            mark = "" if s.article.audience == "public" else "  internal"
            options.add_option(
                Option(Content.assemble((line(s.article.title), "bold"), (mark, "dim")))
            )
        if found:
            options.highlighted = 0
            if not self._on_similar:
                self._preview_article(0)
        else:
            options.add_option(Option(Content.styled("No article matches.", "dim"), disabled=True))
            self.query_one("#kb-preview", Static).update(
                Content.styled(f"No articles found in {self.folder}.", "dim")
            )

    def _show_similar(self, found: list[Similar]) -> None:
        self.similar = found
        options = self.query_one("#kb-similar", OptionList)
        options.loading = False
        options.clear_options()
        for s in found:
            cause = f"  {line(s.summary.root_cause)}" if s.summary.root_cause else ""
            label = f"#{s.summary.number} {line(s.summary.subject)}"
            options.add_option(Option(Content.assemble(label, (cause, "dim"))))
        if found:
            options.highlighted = 0
        else:
            options.add_option(
                Option(Content.styled("No similar solved ticket.", "dim"), disabled=True)
            )

    # -- preview -----------------------------------------------------------------------

    def _preview_article(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.articles):
            return
        a = self.articles[index].article
        facts = " · ".join(
            p for p in (a.audience, f"tags {a.tags}" if a.tags else "", a.updated) if p
        )
        self._preview(
            Content.assemble(
                (line(a.title), "bold"), "\n", (line(facts), "dim"), "\n\n", reflow(a.body)
            )
        )

    def _preview_similar(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.similar):
            return
        s = self.similar[index].summary
        when = s.solved_at.astimezone().strftime("%Y-%m-%d") if s.solved_at else "-"
        cause = " — ".join(p for p in (s.root_cause or "", s.diagnosis) if p) or "not diagnosed"
        self._preview(
            Content.assemble(
                (f"#{s.number} {line(s.subject)}", "bold"),
                "\n",
                (f"{s.status} {when} · queue {line(s.queue)}", "dim"),
                "\n\n",
                ("Root cause: ", "bold"),
                clean_text(cause),
                "\n\n",
                ("Resolution notes", "bold"),
                "\n",
                clean_text(s.resolution) if s.resolution.strip() else "(none)",
            )
        )

    def _preview(self, content: Content) -> None:
        self.query_one("#kb-preview", Static).update(content)
        self.query_one("#kb-preview-box", VerticalScroll).scroll_home(animate=False)

    @property
    def _on_similar(self) -> bool:
        return self.focused is self.query_one("#kb-similar", OptionList)

    @on(OptionList.OptionHighlighted, "#kb-articles")
    def _article_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if not self._on_similar:
            self._preview_article(event.option_index)

    @on(OptionList.OptionHighlighted, "#kb-similar")
    def _similar_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self._on_similar:
            self._preview_similar(event.option_index)

    def on_descendant_focus(self) -> None:
        if self._on_similar:
            self._preview_similar(self.query_one("#kb-similar", OptionList).highlighted)
        elif self.focused is not None:
            self._preview_article(self.query_one("#kb-articles", OptionList).highlighted)

    # -- actions -----------------------------------------------------------------------

    @on(Input.Changed, "#kb-query")
    def _typed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self._search(event.value)
        else:
            self._suggest()

    def action_move(self, step: int) -> None:
        options = self.query_one("#kb-articles", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    @on(Input.Submitted, "#kb-query")
    @on(OptionList.OptionSelected, "#kb-articles")
    def _insert_body(self) -> None:
        self.action_insert("body")

    @on(OptionList.OptionSelected, "#kb-similar")
    def _open_similar(self, event: OptionList.OptionSelected) -> None:
        if 0 <= event.option_index < len(self.similar):
            numbers = tuple(s.summary.number for s in self.similar)
            self.dismiss(KnowledgeChoice(open_ticket=numbers[event.option_index], numbers=numbers))

    def action_insert(self, how: str) -> None:
        index = self.query_one("#kb-articles", OptionList).highlighted
        if index is None or not 0 <= index < len(self.articles):
            self.notify("No article to insert.", severity="warning", markup=False)
            return
        self._use(self.articles[index], how)

    @work(thread=True, group="kb-use", exit_on_error=False)
    def _use(self, suggestion: Suggestion, how: str) -> None:
        from deskterm.kb.articles import KbError
        from deskterm.kb.settings import base_url
        from deskterm.kb.suggest import use_article

        config = self.desk.config
        try:
            text = use_article(self.desk.store, self.number, suggestion.article, how,
                               config.agent.name, base_url(config))  # fmt: skip
        except KbError as exc:
            self.app.call_from_thread(
                self.notify, str(exc), title="Knowledge", severity="warning", markup=False
            )
            return
        self.app.call_from_thread(self.dismiss, KnowledgeChoice(text=text))

    def action_draft(self) -> None:
        """Draft an article from the ticket's notes and root cause, edit it, index it."""
        self._draft()

    @work(thread=True, group="kb-draft", exit_on_error=False)
    def _draft(self) -> None:
        from deskterm.kb.articles import KbError, render_article
        from deskterm.kb.suggest import draft_from_ticket

        try:
            draft = draft_from_ticket(self.desk.store, self.number, _today())
        except KbError as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Knowledge",
                                      severity="warning", markup=False)  # fmt: skip
            return
        self.app.call_from_thread(self._edit_draft, draft.title, render_article(draft))

    def _edit_draft(self, title: str, text: str) -> None:
        from deskterm.editor import EditorError, edit_text

        try:
            with self.app.suspend():
                text = edit_text(text, suffix=".md")
        except (EditorError, SuspendNotSupported) as exc:
            why = str(exc) or "this terminal cannot hand over to an editor."
            self.notify(why, title="Editor", severity="error", markup=False)
            return
        self._save_draft(title, text)

    @work(thread=True, group="kb-draft", exit_on_error=False)
    def _save_draft(self, title: str, text: str) -> None:
        from deskterm.kb.folder import sync_folder, write_article

        path = write_article(self.folder, title, text)
        report = sync_folder(self.desk.store, self.folder)
        said = f"Wrote {path}" + (f"; {report.failed[0]['reason']}" if report.failed else ".")
        self.app.call_from_thread(self.notify, said, title="Knowledge", markup=False)
        self.app.call_from_thread(self._suggest)

    def action_cancel(self) -> None:
        self.dismiss(None)


def reflow(markdown: str) -> str:
    """Article text for a narrow preview: a paragraph's hard line breaks become spaces
    (list items, headings and blank lines keep theirs), so the preview wraps evenly."""
    out: list[str] = []
    for raw in clean_text(markdown).splitlines():
        text = raw.strip()
        starts_block = (
            not text
            or text.startswith(("#", "-", "*", ">", "|"))
            or (text.split(".", 1)[0].isdigit() and "." in text)
        )
        if out and out[-1] and not starts_block and raw[:1] != "\t":
            out[-1] += " " + text
        else:
            out.append(text)
    return "\n".join(out)


def _today() -> str:
    return datetime.now(UTC).date().isoformat()
