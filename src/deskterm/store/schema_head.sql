-- deskterm SQLite schema at revision 0011_takeable

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE customer (
	id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	organization VARCHAR, 
	tier VARCHAR NOT NULL, 
	tags VARCHAR NOT NULL, 
	notes TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	merged_into_id INTEGER, version INTEGER DEFAULT '1' NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(merged_into_id) REFERENCES customer (id)
);

CREATE INDEX ix_customer_organization ON customer (organization);

CREATE TABLE import_failure (
	id INTEGER NOT NULL, 
	connector VARCHAR NOT NULL, 
	source VARCHAR NOT NULL, 
	position VARCHAR NOT NULL, 
	reason TEXT NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_import_failure_where UNIQUE (connector, source, position)
);

CREATE INDEX ix_import_failure_at ON import_failure (at);

CREATE TABLE sync_state (
	account VARCHAR NOT NULL, 
	folder VARCHAR NOT NULL, 
	uidvalidity INTEGER NOT NULL, 
	last_uid INTEGER NOT NULL, 
	last_sync DATETIME, 
	PRIMARY KEY (account, folder)
);

CREATE TABLE identity (
	id INTEGER NOT NULL, 
	customer_id INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	value VARCHAR NOT NULL, 
	domain VARCHAR, 
	display VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(customer_id) REFERENCES customer (id), 
	CONSTRAINT uq_identity_kind_value UNIQUE (kind, value)
);

CREATE INDEX ix_identity_customer_id ON identity (customer_id);

CREATE INDEX ix_identity_domain_customer ON identity (domain, customer_id);

CREATE TABLE event (
	id INTEGER NOT NULL, 
	ticket_id INTEGER, 
	customer_id INTEGER, 
	kind VARCHAR NOT NULL, 
	old VARCHAR, 
	new VARCHAR, 
	actor VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	detail TEXT, action_id VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(customer_id) REFERENCES customer (id), 
	FOREIGN KEY(ticket_id) REFERENCES ticket (id)
);

CREATE INDEX ix_event_kind_at ON event (kind, at);

CREATE INDEX ix_event_ticket ON event (ticket_id, id);

CREATE TABLE heard_step (
	ticket_id INTEGER NOT NULL, 
	step VARCHAR(1) NOT NULL, 
	done BOOLEAN NOT NULL, 
	actor VARCHAR, 
	done_at DATETIME, 
	note TEXT NOT NULL, 
	category VARCHAR, 
	PRIMARY KEY (ticket_id, step), 
	FOREIGN KEY(ticket_id) REFERENCES ticket (id)
);

CREATE TABLE message (
	id INTEGER NOT NULL, 
	ticket_id INTEGER NOT NULL, 
	direction VARCHAR NOT NULL, 
	channel VARCHAR NOT NULL, 
	author_identity_id INTEGER, 
	author_name VARCHAR NOT NULL, 
	author_address VARCHAR NOT NULL, 
	recipients VARCHAR NOT NULL, 
	sent_at DATETIME NOT NULL, 
	date_source VARCHAR NOT NULL, 
	subject VARCHAR NOT NULL, 
	body TEXT NOT NULL, 
	source_key VARCHAR NOT NULL, 
	message_id VARCHAR, 
	in_reply_to VARCHAR, 
	"references" TEXT NOT NULL, 
	content_hash VARCHAR NOT NULL, 
	raw_ref VARCHAR, 
	delivered BOOLEAN NOT NULL, 
	emotion VARCHAR, 
	emotion_score FLOAT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(author_identity_id) REFERENCES identity (id), 
	FOREIGN KEY(ticket_id) REFERENCES ticket (id), 
	UNIQUE (source_key)
);

CREATE INDEX ix_message_content_hash ON message (content_hash);

CREATE INDEX ix_message_rfc_id ON message (message_id);

CREATE INDEX ix_message_in_reply_to ON message (in_reply_to);

CREATE INDEX ix_message_ticket_sent ON message (ticket_id, sent_at, id);

CREATE TABLE note_version (
	id INTEGER NOT NULL, 
	ticket_id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	body TEXT NOT NULL, 
	author VARCHAR NOT NULL, 
	saved_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(ticket_id) REFERENCES ticket (id), 
	CONSTRAINT uq_note_version UNIQUE (ticket_id, version)
);

CREATE TABLE ticket_link (
	ticket_id INTEGER NOT NULL, 
	other_id INTEGER NOT NULL, 
	kind VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (ticket_id, other_id, kind), 
	FOREIGN KEY(other_id) REFERENCES ticket (id), 
	FOREIGN KEY(ticket_id) REFERENCES ticket (id)
);

CREATE INDEX ix_ticket_link_other_id ON ticket_link (other_id);

CREATE TABLE ticket_tag (
	ticket_id INTEGER NOT NULL, 
	tag VARCHAR NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (ticket_id, tag), 
	FOREIGN KEY(ticket_id) REFERENCES ticket (id)
);

CREATE INDEX ix_ticket_tag_activity ON ticket_tag (tag, updated_at, ticket_id);

CREATE TABLE attachment (
	id INTEGER NOT NULL, 
	message_id INTEGER NOT NULL, 
	filename VARCHAR NOT NULL, 
	content_type VARCHAR NOT NULL, 
	size INTEGER NOT NULL, 
	stored_path VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(message_id) REFERENCES message (id)
);

CREATE INDEX ix_attachment_message_id ON attachment (message_id);

CREATE VIRTUAL TABLE message_fts USING fts5(subject, body, content='message', content_rowid='id', tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN
          INSERT INTO message_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body);
        END;

CREATE TRIGGER message_fts_ad AFTER DELETE ON message BEGIN
          INSERT INTO message_fts(message_fts, rowid, subject, body)
          VALUES ('delete', old.id, old.subject, old.body);
        END;

CREATE TRIGGER message_fts_au AFTER UPDATE OF subject, body ON message BEGIN
          INSERT INTO message_fts(message_fts, rowid, subject, body)
          VALUES ('delete', old.id, old.subject, old.body);
          INSERT INTO message_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body);
        END;

CREATE TABLE reply_draft (
	ticket_id INTEGER NOT NULL, 
	author VARCHAR NOT NULL, 
	body TEXT NOT NULL, 
	macro VARCHAR, 
	status_after VARCHAR, 
	error TEXT, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (ticket_id, author), 
	FOREIGN KEY(ticket_id) REFERENCES ticket (id)
);

CREATE TABLE agent (
	id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	email VARCHAR DEFAULT '' NOT NULL, 
	queues VARCHAR DEFAULT '' NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_agent_name UNIQUE (name)
);

CREATE TABLE presence (
	client VARCHAR NOT NULL, 
	agent VARCHAR NOT NULL, 
	ticket_id INTEGER, 
	activity VARCHAR DEFAULT 'viewing' NOT NULL, 
	seen_at DATETIME NOT NULL, 
	PRIMARY KEY (client)
);

CREATE INDEX ix_presence_seen_at ON presence (seen_at);

CREATE TABLE article (
	id INTEGER NOT NULL, 
	path VARCHAR NOT NULL, 
	title VARCHAR NOT NULL, 
	tags VARCHAR NOT NULL, 
	audience VARCHAR NOT NULL, 
	updated VARCHAR NOT NULL, 
	url VARCHAR, 
	ticket_id INTEGER, 
	body TEXT NOT NULL, 
	content_hash VARCHAR NOT NULL, 
	indexed_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (path)
);

CREATE VIRTUAL TABLE article_fts USING fts5(title, tags, body, content='article', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');

CREATE TRIGGER article_fts_ai AFTER INSERT ON article BEGIN
          INSERT INTO article_fts(rowid, title, tags, body)
          VALUES (new.id, new.title, new.tags, new.body);
        END;

CREATE TRIGGER article_fts_ad AFTER DELETE ON article BEGIN
          INSERT INTO article_fts(article_fts, rowid, title, tags, body)
          VALUES ('delete', old.id, old.title, old.tags, old.body);
        END;

CREATE TRIGGER article_fts_au AFTER UPDATE OF title, tags, body ON article BEGIN
          INSERT INTO article_fts(article_fts, rowid, title, tags, body)
          VALUES ('delete', old.id, old.title, old.tags, old.body);
          INSERT INTO article_fts(rowid, title, tags, body)
          VALUES (new.id, new.title, new.tags, new.body);
        END;

CREATE TABLE lease (
	name VARCHAR NOT NULL, 
	holder VARCHAR NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (name)
);

CREATE TABLE action (
	id VARCHAR NOT NULL, 
	actor VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	label VARCHAR DEFAULT '' NOT NULL, 
	count INTEGER DEFAULT '0' NOT NULL, 
	undoes VARCHAR, 
	undone_by VARCHAR, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_action_actor_at ON action (actor, at);

CREATE TABLE action_ticket (
	action_id VARCHAR NOT NULL, 
	ticket_id INTEGER NOT NULL, 
	PRIMARY KEY (action_id, ticket_id)
);

CREATE TABLE saved_view (
	name VARCHAR NOT NULL, 
	"query" VARCHAR DEFAULT '' NOT NULL, 
	sort VARCHAR DEFAULT 'activity' NOT NULL, 
	owner VARCHAR DEFAULT '' NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (name)
);

CREATE INDEX ix_event_action ON event (action_id, kind, ticket_id);

CREATE TABLE "ticket" (
	id INTEGER NOT NULL, 
	subject VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	priority VARCHAR NOT NULL, 
	queue VARCHAR NOT NULL, 
	assignee VARCHAR, 
	channel VARCHAR NOT NULL, 
	customer_id INTEGER, 
	conversation_key VARCHAR, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	first_response_at DATETIME, 
	solved_at DATETIME, 
	closed_at DATETIME, 
	sla_first_response_due DATETIME, 
	sla_resolution_due DATETIME, 
	emotion VARCHAR, 
	emotion_score FLOAT, 
	reopen_count INTEGER NOT NULL, 
	message_count INTEGER NOT NULL, 
	csat INTEGER, 
	ces INTEGER, 
	nps INTEGER, 
	merged_into_id INTEGER, 
	parent_id INTEGER, 
	root_cause VARCHAR, 
	version INTEGER NOT NULL, 
	sla_next_due DATETIME, 
	sla_warn_at DATETIME, 
	sla_paused_at DATETIME, 
	sla_paused_seconds FLOAT DEFAULT '0' NOT NULL, 
	remind_at DATETIME, 
	sla_first_response_missed BOOLEAN DEFAULT 0 NOT NULL, 
	sla_resolution_missed BOOLEAN DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(customer_id) REFERENCES customer (id), 
	FOREIGN KEY(parent_id) REFERENCES ticket (id), 
	FOREIGN KEY(merged_into_id) REFERENCES ticket (id)
);

CREATE INDEX ix_ticket_channel_activity ON ticket (channel, updated_at, id);

CREATE INDEX ix_ticket_priority_activity ON ticket (priority, updated_at, id);

CREATE INDEX ix_ticket_queue_activity ON ticket (queue, updated_at, id);

CREATE INDEX ix_ticket_sla_warn_at ON ticket (sla_warn_at, sla_next_due);

CREATE INDEX ix_ticket_assignee_status_activity ON ticket (assignee, status, updated_at, id);

CREATE INDEX ix_ticket_customer_activity ON ticket (customer_id, updated_at, id);

CREATE INDEX ix_ticket_assignee_activity ON ticket (assignee, updated_at, id);

CREATE INDEX ix_ticket_remind_at ON ticket (remind_at);

CREATE INDEX ix_ticket_status_activity ON ticket (status, updated_at, id);

CREATE INDEX ix_ticket_conversation ON ticket (conversation_key, updated_at);

CREATE INDEX ix_ticket_activity ON ticket (updated_at, id);

CREATE INDEX ix_ticket_created ON ticket (created_at, id);

CREATE INDEX ix_ticket_sla_due ON ticket (sla_next_due, id, sla_warn_at);

CREATE INDEX ix_customer_name_key ON customer (lower(name), id);

CREATE TABLE ticket_fact (
	ticket_id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	solved_at DATETIME, 
	first_response_at DATETIME, 
	status VARCHAR NOT NULL, 
	done INTEGER NOT NULL, 
	merged_into_id INTEGER, 
	channel VARCHAR NOT NULL, 
	queue VARCHAR NOT NULL, 
	assignee VARCHAR, 
	customer_id INTEGER, 
	reopen_count INTEGER NOT NULL, 
	sla_first_response_due DATETIME, 
	sla_resolution_due DATETIME, 
	sla_paused_at DATETIME, 
	replies INTEGER NOT NULL, 
	heard_mask INTEGER NOT NULL, 
	early INTEGER NOT NULL, 
	first_response_s FLOAT, 
	resolution_s FLOAT, 
	created_hour INTEGER NOT NULL, 
	created_weekday INTEGER NOT NULL, 
	fr_met INTEGER NOT NULL, 
	fr_due_from DATETIME, 
	breach_from DATETIME, 
	sla_resolution_missed INTEGER NOT NULL, 
	PRIMARY KEY (ticket_id)
);

CREATE TABLE fact_created_hour (
	grouped VARCHAR NOT NULL, 
	hour_start DATETIME NOT NULL, 
	group_key VARCHAR NOT NULL, 
	channel VARCHAR NOT NULL, 
	queue VARCHAR NOT NULL, 
	n INTEGER NOT NULL, 
	PRIMARY KEY (grouped, hour_start, group_key, channel, queue)
);

CREATE TABLE fact_open_hour (
	grouped VARCHAR NOT NULL, 
	hour_start DATETIME NOT NULL, 
	group_key VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	n INTEGER NOT NULL, 
	PRIMARY KEY (grouped, hour_start, group_key, status)
);

CREATE TABLE ticket_fact_dirty (
	id INTEGER NOT NULL, 
	ticket_id INTEGER NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_ticket_fact_created ON ticket_fact (created_at, merged_into_id, fr_met, fr_due_from, breach_from, first_response_s);

CREATE INDEX ix_ticket_fact_first_response ON ticket_fact (first_response_s, created_at, merged_into_id);

CREATE INDEX ix_ticket_fact_agent_created ON ticket_fact (assignee, created_at, merged_into_id, fr_met, fr_due_from, breach_from, first_response_s);

CREATE INDEX ix_ticket_fact_agent_first_response ON ticket_fact (assignee, first_response_s, created_at, merged_into_id);

CREATE INDEX ix_ticket_fact_solved ON ticket_fact (solved_at, created_at, status, merged_into_id, resolution_s);

CREATE INDEX ix_ticket_fact_resolution ON ticket_fact (resolution_s, solved_at, status, merged_into_id);

CREATE INDEX ix_ticket_fact_open ON ticket_fact (done, created_at);

CREATE INDEX ix_heard_step_step_done_at ON heard_step (step, done_at, done, category, ticket_id);

CREATE INDEX ix_message_emotion ON message (direction, emotion, sent_at, ticket_id);

CREATE TRIGGER fact_ticket_ai AFTER INSERT ON ticket BEGIN INSERT INTO ticket_fact_dirty(ticket_id) VALUES (new.id); END;

CREATE TRIGGER fact_ticket_au AFTER UPDATE OF status, queue, assignee, channel, customer_id, created_at, first_response_at, solved_at, sla_first_response_due, sla_resolution_due, sla_paused_at, reopen_count, merged_into_id, sla_first_response_missed, sla_resolution_missed ON ticket BEGIN INSERT INTO ticket_fact_dirty(ticket_id) VALUES (new.id); END;

CREATE TRIGGER fact_ticket_ad AFTER DELETE ON ticket BEGIN INSERT INTO ticket_fact_dirty(ticket_id) VALUES (old.id); END;

CREATE TRIGGER fact_message_ai AFTER INSERT ON message BEGIN INSERT INTO ticket_fact_dirty(ticket_id) VALUES (new.ticket_id); END;

CREATE TRIGGER fact_heard_step_ai AFTER INSERT ON heard_step BEGIN INSERT INTO ticket_fact_dirty(ticket_id) VALUES (new.ticket_id); END;

CREATE TRIGGER fact_message_au AFTER UPDATE ON message BEGIN INSERT INTO ticket_fact_dirty(ticket_id) VALUES (new.ticket_id); INSERT INTO ticket_fact_dirty(ticket_id) VALUES (old.ticket_id); END;

CREATE TRIGGER fact_heard_step_au AFTER UPDATE ON heard_step BEGIN INSERT INTO ticket_fact_dirty(ticket_id) VALUES (new.ticket_id); INSERT INTO ticket_fact_dirty(ticket_id) VALUES (old.ticket_id); END;

CREATE TRIGGER fact_message_ad AFTER DELETE ON message BEGIN INSERT INTO ticket_fact_dirty(ticket_id) VALUES (old.ticket_id); END;

CREATE TRIGGER fact_heard_step_ad AFTER DELETE ON heard_step BEGIN INSERT INTO ticket_fact_dirty(ticket_id) VALUES (old.ticket_id); END;

CREATE INDEX ix_ticket_takeable ON ticket (priority, sla_next_due, created_at) WHERE assignee IS NULL AND status IN ('new', 'open') AND merged_into_id IS NULL;

CREATE INDEX ix_ticket_merged ON ticket (id) WHERE merged_into_id IS NOT NULL;

