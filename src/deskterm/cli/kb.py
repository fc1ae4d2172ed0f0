"""``deskterm kb``: the knowledge base's articles, and the knowledge for a ticket."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deskterm.cli.common import JsonOption, State, emit_json, emit_rows, fail, state

if TYPE_CHECKING:
    from deskterm.store.models import Article

app = typer.Typer(
    help="Knowledge-base articles (Markdown files in a folder, indexed in the store).",
    no_args_is_help=True,
)


def folder_of(st: State) -> Path:
    """The articles' folder of the store named by ``--db`` (whether or not it exists
    yet: the folder follows from the name)."""
    from deskterm.kb.settings import kb_folder
    from deskterm.paths import resolve_target

    return kb_folder(st.config(), resolve_target(st.db))


def _row(article: Article, folder: Path) -> dict[str, Any]:
    return {
        "title": article.title,
        "path": str(folder / article.path),
        "tags": [t for t in article.tags.split(",") if t],
        "audience": article.audience,
        "updated": article.updated,
        "ticket": article.ticket_id,
        "url": article.url,
    }


def suggested_articles(st: State, number: int) -> list[dict[str, Any]]:
    """``tickets show --json``'s ``suggested_articles``: ``{title, path, score}``."""
    from deskterm.kb.suggest import suggest_articles

    return [s.to_dict() for s in suggest_articles(st.store(), folder_of(st), number)]


@app.command("index")
def index(ctx: typer.Context, json_: Annotated[bool, JsonOption] = False) -> None:
    """Bring the index in step with the folder: changed files by hash, deleted removed."""
    from deskterm.kb.folder import sync_folder

    st = state(ctx)
    report = sync_folder(st.store(create=True), folder_of(st))
    for failure in report.failed:
        typer.echo(f"deskterm: {failure['reason']}", err=True)
    if json_:
        emit_json(report.to_dict())
    else:
        typer.echo(f"Indexed {report.folder}: {report.summary()}.")


@app.command("list")
def list_articles(
    ctx: typer.Context,
    tag: Annotated[str | None, typer.Option(help="Only articles with this tag.")] = None,
    audience: Annotated[str | None, typer.Option(help="internal or public.")] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Indexed articles by title."""
    st = state(ctx)
    folder = folder_of(st)
    rows = [_row(a, folder) for a in st.store().kb.list_articles(tag=tag, audience=audience)]
    table = [{**r, "tags": ", ".join(r["tags"])} for r in rows]
    if json_:
        emit_json(rows)
    else:
        emit_rows(table, ("title", "tags", "audience", "updated"), "table",
                  title=f"{len(rows)} articles in {folder}")  # fmt: skip


def _find(st: State, ref: str) -> Article:
    """An article by its path (absolute or in the folder), file name or name."""
    folder = folder_of(st)
    articles = st.store().kb.list_articles()
    wanted = ref.strip()
    path = Path(wanted).expanduser()
    if path.is_absolute():
        try:
            wanted = path.absolute().relative_to(folder).as_posix()
        except ValueError:
            fail(f"{ref} is not in the knowledge-base folder {folder}.")
    for match in (
        lambda a: a.path == wanted,
        lambda a: a.path == f"{wanted}.md",
        lambda a: Path(a.path).stem == Path(wanted).stem,
    ):
        found = [a for a in articles if match(a)]
        if len(found) == 1:
            return found[0]
    return fail(f"There is no article {ref!r}; see deskterm kb list.")


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Article path, file name or name.")],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """One article with its text."""
    from deskterm.textsafe import clean_line, clean_text

    st = state(ctx)
    article = _find(st, ref)
    row = {**_row(article, folder_of(st)), "body": article.body}
    if json_:
        emit_json(row)
        return
    typer.echo(clean_line(article.title))
    typer.echo(clean_line(f"{row['path']} · {article.audience} · tags {article.tags or '-'} · "
                          f"updated {article.updated}"))  # fmt: skip
    typer.echo("")
    typer.echo(clean_text(article.body))


@app.command("search")
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to look for (stemmed: refunds = refund).")],
    limit: Annotated[int, typer.Option(min=1, help="At most this many articles.")] = 20,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Articles for some words, most relevant first."""
    from deskterm.kb.suggest import search_articles

    st = state(ctx)
    found = search_articles(st.store(), folder_of(st), query, limit)
    rows = [{**s.to_dict(), "tags": s.article.tags, "audience": s.article.audience}
            for s in found]  # fmt: skip
    if json_:
        emit_json(rows)
    else:
        emit_rows(rows, ("title", "score", "tags"), "table", title=f"{len(rows)} articles")


@app.command("new")
def new(
    ctx: typer.Context,
    title: Annotated[str | None, typer.Argument(help="The article's title.")] = None,
    tags: Annotated[str | None, typer.Option(help="Comma-separated tags.")] = None,
    audience: Annotated[str | None, typer.Option(help="internal (default) or public.")] = None,
    body: Annotated[str | None, typer.Option(help="The article's text (Markdown).")] = None,
    file: Annotated[
        str | None,
        typer.Option("--file", "--body-file", "-f", help="Read the text from a file; - for stdin."),
    ] = None,
    from_ticket: Annotated[
        int | None,
        typer.Option("--from-ticket", help="Draft it from a ticket's notes and root cause."),
    ] = None,
    edit: Annotated[
        bool | None, typer.Option("--edit/--no-edit", help="Open it in $EDITOR first.")
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Write a new article into the folder and index it.

    The text comes from --body, --file or a pipe; at a terminal without them, and with
    --from-ticket, the article opens in $EDITOR first (--no-edit writes it as is).
    """
    import sys

    from deskterm.kb.articles import AUDIENCES, ArticleFile, render_article
    from deskterm.kb.folder import sync_folder, write_article
    from deskterm.kb.suggest import draft_from_ticket

    st = state(ctx)
    today = datetime.now(UTC).date().isoformat()
    if audience is not None and audience not in AUDIENCES:
        fail(f"Audience must be internal or public, not {audience!r}.")
    if from_ticket is not None:
        draft = draft_from_ticket(st.store(), from_ticket, today)
    elif title is None or not title.strip():
        fail("Give the article a title (or --from-ticket N).")
    else:
        draft = ArticleFile(title=title.strip(), body="", updated=today)
    text = body
    if file is not None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"Cannot read {file}: {getattr(exc, 'strerror', None) or exc}.")
    interactive = sys.stdin.isatty()
    if text is None and from_ticket is None and not interactive:
        text = sys.stdin.read()  # piped in: echo "…" | deskterm kb new "Title"
    draft = ArticleFile(
        title=title.strip() if title and title.strip() else draft.title,
        body=text if text is not None else draft.body,
        tags=tuple(t.strip().lower() for t in tags.split(",") if t.strip()) if tags else draft.tags,
        audience=audience or draft.audience,
        updated=today,
        ticket=draft.ticket,
    )
    content = render_article(draft)
    if edit if edit is not None else (text is None and interactive):
        from deskterm.editor import edit_text

        content = edit_text(content, suffix=".md")
    if not content.strip():
        fail("The article is empty; nothing was written.")
    folder = folder_of(st)
    path = write_article(folder, draft.title, content)
    report = sync_folder(st.store(create=True), folder)
    for failure in report.failed:
        typer.echo(f"deskterm: {failure['reason']}", err=True)
    if json_:
        emit_json({"path": str(path), "title": draft.title, "indexed": not report.failed})
    else:
        typer.echo(str(path))


@app.command("suggest")
def suggest(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """The articles most relevant to a ticket (as the ticket screen's K panel shows)."""
    rows = suggested_articles(state(ctx), number)
    if json_:
        emit_json(rows)
    else:
        emit_rows(rows, ("title", "score"), "table", title=f"Articles for #{number}")


@app.command("similar")
def similar(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Solved tickets most like this one, with their resolution notes and root cause."""
    from deskterm.kb.suggest import similar_tickets

    rows = [s.to_dict() for s in similar_tickets(state(ctx).store(), number)]
    if json_:
        emit_json(rows)
    else:
        emit_rows(rows, ("number", "subject", "root_cause", "score"), "table",
                  title=f"Solved tickets like #{number}")  # fmt: skip


def _day(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        fail(f"--{name} must be a date like 2026-12-01, not {value!r}.")


@app.command("stats")
def stats(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD, UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this day (YYYY-MM-DD, UTC).")] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Articles used per ticket; first-contact resolution with and without an article."""
    start, end = _day(since, "since"), _day(until, "until")
    data = state(ctx).store().kb.usage(start, end)
    if json_:
        emit_json(data)
        return
    fcr = data["first_contact_resolution"]

    def rate(part: dict[str, Any]) -> str:
        shown = "-" if part["rate"] is None else f"{part['rate']:.1%}"
        return f"{shown} ({part['first_contact']} of {part['solved']} solved)"

    typer.echo(f"Tickets with articles: {data['tickets_with_articles']} "
               f"({data['articles_per_ticket']} articles per ticket)")  # fmt: skip
    typer.echo(f"First-contact resolution with an article: {rate(fcr['with_article'])}")
    typer.echo(f"First-contact resolution without: {rate(fcr['without_article'])}")
