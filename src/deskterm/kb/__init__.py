"""The knowledge base: Markdown articles in a folder, indexed in the store.

``articles`` reads and writes article files, ``folder`` keeps the store's index in
step with the folder, ``terms`` turns a ticket into weighted search words, and
``suggest`` ranks articles and similar solved tickets for a ticket — the functions
the CLI (``deskterm kb``) and the console's knowledge panel share.
"""
