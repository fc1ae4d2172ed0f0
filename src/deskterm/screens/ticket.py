"""One ticket: the conversation, and the customer / HEARD / notes panels beside it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Static, TextArea

from deskterm.screens.conversation import Conversation
from deskterm.screens.customer_panel import CustomerPanel
from deskterm.screens.drafts import Draft
from deskterm.screens.format import (
    channel_label,
    line,
    priority_label,
    sla_fact,
    status_label,
)
from deskterm.screens.heard_panel import HeardPanel
from deskterm.screens.macro_picker import MacroPicker
from deskterm.screens.messages import NumberSequence, TicketChanged, TicketSequence
from deskterm.screens.notes_panel import NotesPanel
from deskterm.screens.queue import REREAD_SECONDS
from deskterm.screens.reply_composer import ReplyComposer
from deskterm.screens.ticket_cache import PREFETCH_DELAY, TicketData, prefetch, read_ticket
from deskterm.screens.ticket_fields import TicketFields
from deskterm.screens.ticket_links import TicketLinks
from deskterm.screens.widgets import KeyBar, PanelTabs, TitleBar
from deskterm.vocab import HEARD_NAMES, HEARD_STEPS

if TYPE_CHECKING:
    from deskterm.macros import Macro
    from deskterm.screens.knowledge import KnowledgeChoice
    from deskterm.store.models import NoteVersion

PANELS = ("conversation", "customer", "heard", "notes")
PANEL_TABS = {"customer": "Customer", "heard": "HEARD", "notes": "Notes"}


class TicketScreen(TicketFields, TicketLinks, Screen[None]):
    """A ticket with everything an agent needs to resolve it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("1", "heard('H')", "HEARD: Hear", key_display="1-5"),
        *(
            Binding(str(n), f"heard('{step}')", f"HEARD: {HEARD_NAMES[step]}", show=False)
            for n, step in enumerate(HEARD_STEPS, 1)
            if n > 1
        ),
        Binding("r", "reply", "Reply"),
        Binding("s", "status", "Status"),
        Binding("p", "priority", "Priority"),
        Binding("a", "assign", "Assign"),
        Binding("t", "tags", "Tags"),
        Binding("n", "notes", "Notes"),
        Binding("i", "internal_note", "Int. note"),
        Binding("right_square_bracket", "step(1)", "Next", key_display="]"),
        Binding("left_square_bracket", "step(-1)", "Prev", key_display="["),
        Binding("c", "customer", "Customer"),
        Binding("m", "queue", "Queue"),
        Binding("x", "macro", "Macro"),
        Binding("e", "reply_editor", "Reply in $EDITOR"),
        Binding("M", "merge", "Merge"),
        Binding("exclamation_mark", "escalate", "Escalate", key_display="!"),
        Binding("L", "link", "Link"),
        Binding("E", "emotion", "Correct the emotion", show=False),
        Binding("K", "knowledge", "Knowledge: articles and similar tickets", show=False),
        Binding("asterisk", "rate", "Rate satisfaction", key_display="*", show=False),
        Binding("tab", "panel(1)", "Next panel", show=False),
        Binding("shift+tab", "panel(-1)", "Previous panel", show=False),
        Binding("A", "assign_me", "Assign to me", show=False),
        Binding("z", "unfold", "Unfold quotes", show=False),
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("ctrl+y", "retry_change", "Apply a refused change again", show=False),
    ]

    def __init__(self, number: int, sequence: TicketSequence | None = None) -> None:
        super().__init__()
        self.number = number
        self.sequence = sequence
        self.data: TicketData | None = None
        self.unfold = False
        self._serial = 0
        self._retry = None
        self._own_version = None
        self._writing = threading.Lock()
        self.reveal_end = False  # the next re-read scrolls to our own new note or reply

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal(id="ticket-body"):
            with Vertical(id="ticket-main"):
                yield Static(Content(f"#{self.number}"), id="ticket-summary")
                yield Conversation(id="conversation")
                yield ReplyComposer(self.number, id="reply-composer")
            with Vertical(id="panels"):
                yield PanelTabs(PANEL_TABS, "customer", id="panel-tabs")
                with ContentSwitcher(initial="customer", id="panel-switcher"):
                    yield CustomerPanel(id="customer")
                    yield HeardPanel(id="heard")
                    yield NotesPanel(self.number, id="notes")
        yield KeyBar()

    def on_mount(self) -> None:
        self._open()
        self.set_interval(REREAD_SECONDS, self.reread)

    def reread(self) -> None:
        """Re-read the ticket now and then: a customer's new message shows up and the
        SLA clock moves on (the notes and the reply being written are not touched)."""
        if self.is_current and self.data is not None:
            self._load(self.number, first=False)

    def show_ticket(self, number: int, sequence: TicketSequence | None) -> None:
        """Show another ticket on this screen (the app reuses one ticket screen, and
        ``]``/``[`` step through a list, without building widgets again)."""
        self.number, self.sequence = number, sequence
        if self.is_mounted:
            self.query_one(NotesPanel).switch(number)
            self.query_one(ReplyComposer).switch(number)
            self._open()

    def _open(self) -> None:
        self.data = None
        self._own_version = None
        self.unfold = False
        self.query_one(Conversation).focus()
        self.desk.live.show(self.number)
        self._serial = self.desk.change_serial
        cached = self.desk.ticket_cache.get(self.number, self._serial)
        if cached is not None:
            self._show(cached)
            self._load_draft(self.number, cached.detail.note)
        else:
            self.query_one("#ticket-summary", Static).update(
                Content.styled(f"#{self.number} loading…", "dim")
            )
            self.query_one(Conversation).clear("Loading…")
            self._load(self.number, first=True)

    def on_screen_resume(self) -> None:
        self._publish_activity()
        if self.data is not None and self.desk.change_serial != self._serial:
            self._serial = self.desk.change_serial
            self._load(self.number, first=False)

    # -- loading -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="ticket-load", exit_on_error=False)
    def _load(self, number: int, first: bool) -> None:
        data = read_ticket(self.desk.store, number)
        draft = self.desk.drafts.read(number) if first else None
        self.app.call_from_thread(self._loaded, number, data, first, draft)

    @work(thread=True, exclusive=True, group="ticket-draft", exit_on_error=False)
    def _load_draft(self, number: int, note: NoteVersion | None) -> None:
        draft = self.desk.drafts.read(number)
        self.app.call_from_thread(self._draft_loaded, number, note, draft)

    def _loaded(self, number: int, data: TicketData, first: bool, draft: Draft | None) -> None:
        if number != self.number:
            return  # the agent has moved on to another ticket
        self.desk.ticket_cache.put(number, self.desk.change_serial, data)
        self._show(data)
        if first:
            self.query_one(NotesPanel).load(number, data.detail.note, draft)

    def _draft_loaded(self, number: int, note: NoteVersion | None, draft: Draft | None) -> None:
        if number == self.number:
            self.query_one(NotesPanel).load(number, note, draft)

    def _show(self, data: TicketData) -> None:
        fresh = self.data is None
        self.data = data
        now = self.desk.clock()
        self._summary()
        self.query_one(Conversation).show(
            data.detail.messages, data.detail.attachments, unfold=self.unfold, reset=fresh,
            to_end=self.reveal_end and not fresh,
        )  # fmt: skip
        self.reveal_end = False
        self.query_one(CustomerPanel).show(data.profile, self.number, now)
        self.query_one(HeardPanel).show(
            data.detail.heard, now, data.detail.ticket.emotion, data.emotion_cues
        )
        if self.sequence is not None:
            following = self.sequence.peek(self.number, 1)
            if following is not None:  # read ``]``'s ticket ahead, once this one is drawn
                self.set_timer(PREFETCH_DELAY, lambda: prefetch(self, self.desk, following))

    def _summary(self) -> None:
        if self.data is None:
            return
        t = self.data.detail.ticket
        tags = ", ".join(line(tag) for tag in self.data.detail.tags)
        facts = [
            f"queue {line(t.queue)}",
            f"@{line(t.assignee)}" if t.assignee else "unassigned",
            channel_label(t.channel),
            f"HEARD {sum(1 for h in self.data.detail.heard.values() if h.done)}/5",
            *self.data.detail.merge_facts(),
        ]
        if tags:  # last: on a narrow screen the tags are cut, not the SLA clock
            facts.append(f"tags {tags}")
        others = self.desk.live.describe(self.number)
        summary = Content.assemble(
            (f"#{t.id} ", "bold"),
            (line(t.subject) or "(no subject)", "bold"),
            (f"  ● {others}" if others else "", "bold reverse"),
            "\n",
            (f"{status_label(t.status)} · {priority_label(t.priority)}", "dim"),
            sla_fact(t, self.desk.clock()),
            (" · " + " · ".join(facts), "dim"),
        )
        self.query_one("#ticket-summary", Static).update(summary)

    def _changed(self) -> None:
        """After a change from this screen: tell the app, re-read the ticket."""
        self.post_message(TicketChanged(self.number))
        self._load(self.number, first=False)

    # -- panels ------------------------------------------------------------------------

    def on_descendant_focus(self) -> None:
        self._publish_activity()

    def on_descendant_blur(self) -> None:
        self._publish_activity()

    def _publish_activity(self) -> None:
        """Tell other agents whether we are reading, replying or writing notes."""
        if not self.is_current:
            return
        focused: Widget | None = self.focused
        activity = "viewing"
        while focused is not None:
            if isinstance(focused, ReplyComposer):
                activity = "replying"
            elif isinstance(focused, NotesPanel):
                activity = "notes"
            parent = focused.parent
            focused = parent if isinstance(parent, Widget) else None
        self.desk.live.show(self.number, activity)

    def presence_changed(self) -> None:
        self._summary()

    def _region(self) -> str:
        focused: Widget | None = self.focused
        while focused is not None:
            if focused.id in PANELS:
                return focused.id or "conversation"
            parent = focused.parent
            focused = parent if isinstance(parent, Widget) else None
        return "conversation"

    def focus_panel(self, name: str) -> None:
        """Show and focus one region: conversation, customer, heard or notes."""
        if name != "conversation":
            self.show_panel(name)
        target: dict[str, str] = {
            "conversation": "#conversation",
            "customer": "#history",
            "heard": "#heard-steps",
            "notes": "#notes-editor",
        }
        self.query_one(target[name]).focus()

    def show_panel(self, name: str) -> None:
        """Bring a side panel to the front (without moving focus)."""
        self.query_one(ContentSwitcher).current = name
        self.query_one(PanelTabs).active = name

    @on(PanelTabs.Chosen)
    def _tab_clicked(self, event: PanelTabs.Chosen) -> None:
        self.focus_panel(event.name)

    def action_panel(self, step: int) -> None:
        index = PANELS.index(self._region())
        self.focus_panel(PANELS[(index + step) % len(PANELS)])

    def action_notes(self) -> None:
        self.focus_panel("notes")
        editor = self.query_one(NotesPanel).editor
        if editor.cursor_location == (0, 0):
            editor.move_cursor(editor.document.end)  # go on writing where the notes end

    def action_unfold(self) -> None:
        self.unfold = not self.unfold
        if self.data:
            self.query_one(Conversation).show(
                self.data.detail.messages, self.data.detail.attachments, unfold=self.unfold
            )

    def action_reload(self) -> None:
        self._load(self.number, first=False)

    # -- navigation --------------------------------------------------------------------

    def action_back(self) -> None:
        if isinstance(self.focused, TextArea):
            self.focus_panel("conversation")
            return
        self.dismiss(None)

    def action_step(self, step: int) -> None:
        """``]``/``[``: the next or previous ticket of the list this one came from."""
        following = self.sequence.neighbour(self.number, step) if self.sequence else None
        if following is None:
            where = "last" if step > 0 else "first"
            self.notify(f"This is the {where} ticket of the list.", markup=False)
            return
        self.show_ticket(following, self.sequence)

    def action_customer(self) -> None:
        ticket = self.data.detail.ticket if self.data else None
        if ticket is None or ticket.customer_id is None:
            self.notify("This ticket has no customer.", severity="warning", markup=False)
            return
        self.desk.open_customer(ticket.customer_id)

    @on(CustomerPanel.OpenTicket)
    def _open_from_history(self, event: CustomerPanel.OpenTicket) -> None:
        if event.number == self.number:
            self.focus_panel("conversation")
            return
        self.desk.open_ticket(event.number, NumberSequence(event.numbers))

    # -- HEARD clicks, satisfaction (the field changes are in ticket_fields.py) ----------

    @on(HeardPanel.Toggled)
    def _toggled(self, event: HeardPanel.Toggled) -> None:
        self.action_heard(event.step)

    def action_rate(self) -> None:
        """``*``: record the customer's CSAT, CES or NPS with a comment."""
        from deskterm.screens.rating import RatingScreen

        self.app.push_screen(RatingScreen(self.number))

    # -- replies and macros ----------------------------------------------------------------

    def action_reply(self) -> None:
        """``r``: the reply composer under the conversation, with the saved draft."""
        self.query_one(ReplyComposer).open()

    def action_reply_editor(self) -> None:
        """``e``: write the reply in ``$EDITOR``; the text lands in the composer."""
        composer = self.query_one(ReplyComposer)
        composer.open(then=composer.edit_externally)

    def action_macro(self) -> None:
        channel = self._field("channel")
        if channel is not None:
            self.app.push_screen(MacroPicker(channel), self._macro_chosen)

    def _macro_chosen(self, macro: Macro | None) -> None:
        if macro is not None:
            self.query_one(ReplyComposer).use_macro(macro)

    def action_knowledge(self) -> None:
        """``K``: suggested articles (inserted into the reply) and similar solved tickets."""
        from deskterm.screens.knowledge import KnowledgeScreen

        self.app.push_screen(KnowledgeScreen(self.number), self._knowledge_chosen)

    def _knowledge_chosen(self, choice: KnowledgeChoice | None) -> None:
        if choice is not None and choice.text is not None:
            self.query_one(ReplyComposer).insert_text(choice.text)
        elif choice is not None and choice.open_ticket is not None:
            self.desk.open_ticket(choice.open_ticket, NumberSequence(list(choice.numbers)))

    @on(ReplyComposer.Sent)
    def _replied(self, event: ReplyComposer.Sent) -> None:
        if event.number != self.number:
            self.post_message(TicketChanged(event.number))
            return
        self.focus_panel("conversation")
        self.reveal_end = True
        self._changed()

    @on(ReplyComposer.Left)
    def _left_reply(self) -> None:
        self.focus_panel("conversation")
