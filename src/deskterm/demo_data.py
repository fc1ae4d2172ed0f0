"""The demo store's texts: names, companies, and conversations by topic.

Kept apart from :mod:`deskterm.demo` (which generates and writes the rows) so the
generator reads as logic, not prose. Changing a text changes the demo for every seed."""

FIRST = (
    "Maria", "James", "Aiko", "Liam", "Sofia", "Noah", "Fatima", "Lucas", "Olga", "Mateo",
    "Priya", "Ethan", "Chloe", "Yusuf", "Hannah", "Diego", "Ingrid", "Kwame", "Lena", "Ravi",
    "Zoe", "Tomasz", "Amara", "Hugo", "Mei", "Omar", "Elena", "Kenji", "Nadia", "Pablo",
)  # fmt: skip
LAST = (
    "Garcia", "Smith", "Tanaka", "Müller", "Rossi", "Dubois", "Kowalski", "Silva", "Novak",
    "Johansson", "Okafor", "Patel", "Nguyen", "Kim", "Haddad", "O'Brien", "Fischer", "Costa",
    "Lindqvist", "Moreau", "Yilmaz", "Ivanova", "Santos", "Becker", "Ahmed", "Larsen",
)  # fmt: skip
COMPANIES = (
    ("Acme Corp", "acme.com"), ("Globex", "globex.io"), ("Initech", "initech.com"),
    ("Umbrella Health", "umbrella-health.org"), ("Stark Logistics", "starklog.com"),
    ("Wayne Retail", "wayneretail.com"), ("Hooli", "hooli.dev"),
    ("Vandelay Imports", "vandelay.co"),
    ("Soylent Foods", "soylent.food"), ("Tyrell Systems", "tyrell.systems"),
    ("Cyberdyne", "cyberdyne.ai"), ("Massive Dynamic", "massivedynamic.com"),
)  # fmt: skip
SUPPORT_ADDRESS = "support@deskterm.example"
FREEMAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")

# Conversations by topic: subject, customer opener, agent reply, customer follow-up,
# agent resolution. {order}, {amount}, {product}, {name} and {agent} are filled in.
TOPICS = (
    (
        "billing",
        "Charged twice for order {order}",
        "Hi, I was charged twice for my order {order} ({amount}). I only placed it once. "
        "Can you refund the duplicate charge to my account?",
        "Hello {name}, thank you for telling us and I'm sorry about the double charge. "
        "I can see two payments for {order}; I have asked billing to refund the second one.",
        "Thanks. How long will the refund take to show on my account?",
        "The refund of {amount} was issued today; banks usually show it within 3-5 business days.",
    ),
    (
        "accounts",
        "Cannot log in to my account",
        "I can't log in to my account since this morning. The password reset email never "
        "arrives and I have a deadline today. Please help!",
        "Hi {name}, I'm sorry you're locked out, especially with a deadline. I've resent the reset "
        "link and cleared the lock on your account.",
        "Still nothing in my inbox, not even in spam. Is there another way?",
        "I have changed the sender settings for your account; the reset email should arrive now.",
    ),
    (
        "shipping",
        "Where is my package? Order {order}",
        "My order {order} was supposed to arrive last week and the tracking page has not "
        "changed in five days. Where is my package?",
        "Hi {name}, I understand how frustrating it is to wait. I've opened a trace with the "
        "carrier for {order} and will update you tomorrow.",
        "Any news on the trace? I need the {product} for an event on Saturday.",
        "The carrier found the package at the regional depot; it will be delivered tomorrow.",
    ),
    (
        "technical",
        "{product} crashes when exporting reports",
        "Every time I export a report the {product} app crashes. This started after the last "
        "update. The account is used by our whole team.",
        "Hi {name}, thanks for the details and sorry for the disruption. Could you send the "
        "version number and the size of the report you export?",
        "Version 4.2.1, the report has about 20000 rows. It worked fine last month.",
        "Our engineers confirmed a defect in 4.2.1 with large exports; 4.2.2 fixes it and is "
        "out now.",
    ),
    (
        "general",
        "Question about upgrading my plan",
        "Hello, we are thinking about upgrading our account to the premium plan. Does it "
        "include priority support and more seats?",
        "Hi {name}, great question! Premium includes priority support, 25 seats and SSO.",
        "Perfect, and can we switch in the middle of the billing cycle?",
        "Yes, the upgrade is prorated; you only pay the difference for the rest of the cycle.",
    ),
    (
        "billing",
        "Invoice {order} shows the wrong VAT number",
        "The invoice {order} has our old VAT number. Our accountant needs a corrected invoice "
        "for the account before the end of the month.",
        "Hi {name}, sorry about that. I've updated the VAT number on your account; a corrected "
        "invoice will follow.",
        "Thank you. Could you also send the invoices for the last two months?",
        "I've attached corrected copies of all three invoices to this reply.",
    ),
    (
        "technical",
        "Sync with calendar stopped working",
        "The calendar sync stopped working yesterday. Meetings I add in {product} do not show "
        "up anymore. This is really annoying!!",
        "Hi {name}, I'm sorry the sync let you down. I reconnected the integration on our side; "
        "could you try adding a meeting again?",
        "It works for new meetings but the ones from yesterday are still missing.",
        "I re-ran the sync for the last 48 hours; everything from yesterday is back.",
    ),
    (
        "shipping",
        "Damaged item received",
        "The {product} I received today arrived with a cracked screen. I'm really disappointed, "
        "it was a gift.",
        "Hi {name}, I'm so sorry it arrived damaged. I've sent a replacement by express "
        "shipping at no cost to you.",
        "Do I need to send the broken one back?",
        "No need to send it back; please recycle it responsibly. Your replacement ships today.",
    ),
)
PRODUCTS = ("Nimbus Pro", "DeskPad", "Orbit Hub", "Pulse Watch", "Atlas Router", "Lumen Cam")
TAGS = ("vip", "refund", "bug", "follow-up", "churn-risk", "feature-request", "escalated", "legal")
NOTE_TEXT = (
    "## Resolution\n{resolution}\n\n## Root cause\n{cause}\n\n"
    "## Follow-up\nCheck in with the customer in a week."
)
