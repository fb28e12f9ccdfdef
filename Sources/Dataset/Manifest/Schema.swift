import GRDB

/// The manifest's schema as a list of forward migrations. A migration, once released, never changes:
/// a new column or table is a new migration appended to `migrator`.
public enum ManifestSchema {
    /// The identifier of the newest migration this binary knows.
    public static var latestVersion: String { migrationNames.last! }

    static let migrationNames = ["v1-initial", "v2-collect-searches", "v3-phash-fast", "v4-splits", "v5-question-keys",
                                  "v6-decisions-by-keyword", "v7-pair-states", "v8-judgements",
                                  "v9-embeddings", "v10-llm-batches", "v11-llm-cache-estimates", "v12-reviews",
                                  "v13-review-batches"]

    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-initial") { db in try createInitialTables(db) }
        migrator.registerMigration("v2-collect-searches") { db in try createSourceSearches(db) }
        // The approximate pHash (filter.duplicates.phash: fast) is kept apart from the imagehash-exact one,
        // so switching modes never mixes the two in one comparison.
        migrator.registerMigration("v3-phash-fast") { db in try db.execute(sql: "ALTER TABLE images ADD COLUMN phash_fast TEXT") }
        // One definition of "kept" and one stored train/test split (ExperimentSplit).
        migrator.registerMigration("v4-splits") { db in try createSplits(db) }
        // Answer keys are placed once: `placed_at` is set when a question's answer letter is balanced over the set
        // created with it, and a placed question is never permuted again (questions stored before are placed).
        migrator.registerMigration("v5-question-keys") { db in
            try db.execute(sql: "ALTER TABLE questions ADD COLUMN placed_at REAL; UPDATE questions SET placed_at = created_at WHERE status = 'accepted'")
        }
        // Duplicate grouping replaces one keyword's `duplicates` decisions at a time; without an index each
        // replacement scanned every decision (quadratic in the images: bench/scale's 100k filter).
        migrator.registerMigration("v6-decisions-by-keyword") { db in
            try db.execute(sql: "CREATE INDEX filter_decisions_by_keyword ON filter_decisions(keyword_id, rule)")
        }
        // "Kept" is still the one rule (every decision of the pair passed), but kept up to date per pair as decisions
        // are written instead of grouped over every decision on each read: `status` at a million images counted
        // kept pairs in 10 s through the grouping view.
        migrator.registerMigration("v7-pair-states") { db in try createPairStates(db) }
        // Verdicts of the judges (description faithfulness, answer keys), and `disputed` as a question status that
        // every query for accepted questions leaves out by construction.
        migrator.registerMigration("v8-judgements") { db in
            try createJudgements(db)
            try allowDisputedQuestions(db)
        }
        // Image and keyword-text embeddings (`dsbuild embed`): the vectors live in one file per model under
        // `embeddings/`; these tables say which row of it holds which image or keyword (EmbeddingStore).
        migrator.registerMigration("v9-embeddings") { db in try createEmbeddings(db) }
        // Batch API submissions (`llm.batch`), so a killed process resumes polling instead of submitting again.
        migrator.registerMigration("v10-llm-batches") { db in try createLLMBatches(db) }
        // What dsbuild's own approximation made of each cached request's prompt (`RequestTokens`), beside the
        // endpoint's real count: the calibration of `dsbuild estimate` and of the budget is their ratio.
        migrator.registerMigration("v11-llm-cache-estimates") { db in
            try db.execute(sql: "ALTER TABLE llm_cache ADD COLUMN estimated_prompt_tokens INTEGER")
        }
        // Human review decisions (`dsbuild review`): the log, the current decision per pair and per text, and the
        // `kept_pairs` view and text triggers through which they override every automated decision.
        migrator.registerMigration("v12-reviews") { db in try HumanDecisionSchema.create(db) }
        // A review action on several selected items is one batch of `reviews` rows (`batch`: the first row's id),
        // which one undo reverts together; an action recorded before is its own batch.
        migrator.registerMigration("v13-review-batches") { db in
            try db.execute(sql: "ALTER TABLE reviews ADD COLUMN batch INTEGER; UPDATE reviews SET batch = id; CREATE INDEX reviews_by_batch ON reviews(batch)")
        }
        return migrator
    }

    /// `llm_batches`: one row per Batch API submission, written before its input file is uploaded (`staged`), then
    /// with the file id (`uploaded`), the provider's batch id and status as polled, the output and error file ids and
    /// counts; `merged_at` once its results are in `llm_cache` (a row without it is in flight and is resumed).
    /// `llm_batch_requests`: each request of a batch by its `custom_id` (the `llm_cache` key) and what became of it
    /// (`submitted`, then `succeeded`, `failed`, `expired` or `cancelled`). No key or secret is stored.
    private static func createLLMBatches(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE llm_batches (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                batch_id TEXT UNIQUE,
                model TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                input_file_id TEXT,
                output_file_id TEXT,
                error_file_id TEXT,
                request_count INTEGER NOT NULL,
                input_bytes INTEGER NOT NULL DEFAULT 0,
                completed INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL,
                polls INTEGER NOT NULL DEFAULT 0,
                errors TEXT,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                merged_at REAL
            );
            CREATE TABLE llm_batch_requests (
                custom_id TEXT NOT NULL,
                batch INTEGER NOT NULL REFERENCES llm_batches(id) ON DELETE CASCADE,
                purpose TEXT,
                state TEXT NOT NULL,
                error TEXT,
                PRIMARY KEY (custom_id, batch)
            ) WITHOUT ROWID;
            CREATE INDEX llm_batch_requests_by_batch ON llm_batch_requests(batch, state);
            """)
    }

    /// `embedding_models`: one row per model folder (its id a digest of the folder's files, `EmbeddingModelID`), its
    /// vector size and how many rows of its file are recorded (a killed run may leave an unrecorded tail, which the
    /// next append cuts off). `image_embeddings` / `keyword_embeddings`: which row holds an image's vector, or a
    /// keyword's (with the exact text that was embedded, so a changed prompt is embedded again).
    private static func createEmbeddings(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE embedding_models (
                id TEXT PRIMARY KEY NOT NULL,
                path TEXT NOT NULL,
                family TEXT NOT NULL,
                dim INTEGER NOT NULL CHECK (dim > 0),
                file TEXT NOT NULL,
                rows INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL
            );
            CREATE TABLE image_embeddings (
                model_id TEXT NOT NULL REFERENCES embedding_models(id) ON DELETE CASCADE,
                image_sha256 TEXT NOT NULL REFERENCES images(sha256) ON DELETE CASCADE,
                row INTEGER NOT NULL,
                PRIMARY KEY (model_id, image_sha256)
            ) WITHOUT ROWID;
            CREATE TABLE keyword_embeddings (
                model_id TEXT NOT NULL REFERENCES embedding_models(id) ON DELETE CASCADE,
                keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
                text TEXT NOT NULL,
                row INTEGER NOT NULL,
                PRIMARY KEY (model_id, keyword_id)
            ) WITHOUT ROWID;
            """)
    }

    /// One row per keyword × source that collect has searched, so that a keyword with no results is not searched
    /// again on resume, and a failed search says why.
    private static func createSourceSearches(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE source_searches (
                keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
                source TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
                found INTEGER NOT NULL DEFAULT 0,
                detail TEXT,
                finished_at REAL NOT NULL,
                PRIMARY KEY (keyword_id, source)
            );
            """)
    }

    /// `judgements`: one row per judge and judged item (`JudgementRow`), the verdict current while its
    /// `settings_hash` and `subject_sha256` match the judge's settings and the item.
    private static func createJudgements(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE judgements (
                judge TEXT NOT NULL,
                subject TEXT NOT NULL,
                subject_sha256 TEXT NOT NULL,
                keyword_id INTEGER REFERENCES keywords(id) ON DELETE CASCADE,
                image_sha256 TEXT NOT NULL DEFAULT '',
                settings_hash TEXT NOT NULL,
                model TEXT NOT NULL,
                verdict TEXT NOT NULL,
                answer TEXT,
                reason TEXT,
                detail TEXT NOT NULL DEFAULT '{}',
                request_key TEXT,
                judged_at REAL NOT NULL,
                PRIMARY KEY (judge, subject)
            );
            CREATE INDEX judgements_by_keyword ON judgements(keyword_id, judge);
            """)
    }

    /// `questions.status` gains `disputed` (the answer-key verifier contradicts the key or finds two defensible
    /// options). SQLite cannot change a CHECK constraint, so the table is rebuilt: every column in its order
    /// (`placed_at` last, as v5 added it), every row with its rowid (the order questions were first stored in, which
    /// `QuestionStore.accepted` reads them in), and its index.
    private static func allowDisputedQuestions(_ db: Database) throws {
        let columns = """
            id, keyword_id, image_sha256, type, question, options, answer, aspect, rationale, category, split, status, reason, \
            origin, model, template_sha256, request_key, leaky, extra, created_at, placed_at
            """
        try db.execute(sql: """
            CREATE TABLE questions_v8 (
                id TEXT PRIMARY KEY NOT NULL,
                keyword_id INTEGER REFERENCES keywords(id) ON DELETE CASCADE,
                image_sha256 TEXT NOT NULL DEFAULT '',
                type INTEGER NOT NULL,
                question TEXT NOT NULL,
                options TEXT NOT NULL,
                answer INTEGER NOT NULL,
                aspect TEXT,
                rationale TEXT,
                category TEXT,
                split TEXT NOT NULL DEFAULT 'train',
                status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'failed', 'disputed')),
                reason TEXT,
                origin TEXT NOT NULL DEFAULT 'generated',
                model TEXT,
                template_sha256 TEXT,
                request_key TEXT,
                leaky INTEGER,
                extra TEXT NOT NULL DEFAULT '{}',
                created_at REAL NOT NULL,
                placed_at REAL
            );
            INSERT INTO questions_v8 (rowid, \(columns)) SELECT rowid, \(columns) FROM questions ORDER BY rowid;
            DROP TABLE questions;
            ALTER TABLE questions_v8 RENAME TO questions;
            CREATE INDEX questions_by_keyword ON questions(keyword_id);
            """)
    }

    /// `pair_states`: each (image, keyword) pair with decisions and the least `pass` of them (1 kept, 0 dropped,
    /// -1 undecided), refreshed by triggers from `filter_decisions` in the same statement that changes it, so it
    /// cannot drift; `kept_pairs` reads it. The triggers recompute a pair from its rows (a handful, by the primary
    /// key), so an insert, upsert, replace, delete or cascade all leave it exact.
    private static func createPairStates(_ db: Database) throws {
        func refresh(_ row: String) -> String {
            """
            DELETE FROM pair_states WHERE image_sha256 = \(row).image_sha256 AND keyword_id = \(row).keyword_id;
            INSERT INTO pair_states (image_sha256, keyword_id, min_pass)
                SELECT image_sha256, keyword_id, MIN(pass) FROM filter_decisions
                 WHERE image_sha256 = \(row).image_sha256 AND keyword_id = \(row).keyword_id
                 GROUP BY image_sha256, keyword_id;
            """
        }
        try db.execute(sql: """
            CREATE TABLE pair_states (
                image_sha256 TEXT NOT NULL,
                keyword_id INTEGER NOT NULL,
                min_pass INTEGER NOT NULL,
                PRIMARY KEY (image_sha256, keyword_id)
            ) WITHOUT ROWID;
            INSERT INTO pair_states (image_sha256, keyword_id, min_pass)
                SELECT image_sha256, keyword_id, MIN(pass) FROM filter_decisions GROUP BY image_sha256, keyword_id;
            CREATE INDEX pair_states_by_pass ON pair_states(min_pass);
            CREATE INDEX pair_states_by_keyword ON pair_states(keyword_id, min_pass);
            CREATE TRIGGER filter_decisions_inserted AFTER INSERT ON filter_decisions BEGIN
                \(refresh("NEW"))
            END;
            CREATE TRIGGER filter_decisions_updated AFTER UPDATE ON filter_decisions BEGIN
                \(refresh("OLD"))
                \(refresh("NEW"))
            END;
            CREATE TRIGGER filter_decisions_deleted AFTER DELETE ON filter_decisions BEGIN
                \(refresh("OLD"))
            END;
            DROP VIEW kept_pairs;
            CREATE VIEW kept_pairs AS SELECT image_sha256, keyword_id FROM pair_states WHERE min_pass = 1;
            """)
    }

    private static func createSplits(_ db: Database) throws {
        try db.execute(sql: """
            CREATE VIEW kept_pairs AS
                SELECT image_sha256, keyword_id FROM filter_decisions GROUP BY image_sha256, keyword_id HAVING MIN(pass) = 1;
            CREATE TABLE splits (
                keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
                image_sha256 TEXT NOT NULL DEFAULT '',
                split TEXT NOT NULL CHECK (split IN ('train', 'test')),
                settings_hash TEXT NOT NULL,
                settings TEXT NOT NULL,
                assigned_at REAL NOT NULL,
                PRIMARY KEY (keyword_id, image_sha256)
            );
            CREATE INDEX splits_by_image ON splits(image_sha256);
            """)
    }

    private static func createInitialTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE workspace_info (
                key TEXT PRIMARY KEY NOT NULL,
                value TEXT NOT NULL
            );

            CREATE TABLE keywords (
                id INTEGER PRIMARY KEY,
                text TEXT NOT NULL UNIQUE,
                category TEXT,
                language TEXT,
                query TEXT,
                extra TEXT NOT NULL DEFAULT '{}',
                created_at REAL NOT NULL
            );

            CREATE TABLE candidates (
                id INTEGER PRIMARY KEY,
                keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
                source TEXT NOT NULL,
                source_id TEXT NOT NULL,
                image_url TEXT NOT NULL,
                page_url TEXT,
                license TEXT,
                license_url TEXT,
                author TEXT,
                title TEXT,
                description TEXT,
                declared_width INTEGER,
                declared_height INTEGER,
                declared_bytes INTEGER,
                declared_mime TEXT,
                declared_sha1 TEXT,
                extra TEXT NOT NULL DEFAULT '{}',
                rank INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL,
                UNIQUE (keyword_id, source, source_id)
            );
            CREATE INDEX candidates_by_keyword ON candidates(keyword_id);
            CREATE INDEX candidates_by_url ON candidates(image_url);

            CREATE TABLE images (
                sha256 TEXT PRIMARY KEY NOT NULL,
                path TEXT NOT NULL,
                bytes INTEGER NOT NULL,
                format TEXT,
                width INTEGER,
                height INTEGER,
                display_width INTEGER,
                display_height INTEGER,
                orientation INTEGER,
                animated INTEGER NOT NULL DEFAULT 0,
                frames INTEGER,
                rights TEXT NOT NULL DEFAULT '{}',
                probe TEXT NOT NULL DEFAULT '{}',
                phash TEXT,
                created_at REAL NOT NULL
            );

            CREATE TABLE downloads (
                candidate_id INTEGER PRIMARY KEY NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
                status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
                reason TEXT,
                detail TEXT,
                image_sha256 TEXT REFERENCES images(sha256),
                http_status INTEGER,
                attempts INTEGER NOT NULL DEFAULT 0,
                final_url TEXT,
                retryable INTEGER NOT NULL DEFAULT 0,
                finished_at REAL NOT NULL
            );
            CREATE INDEX downloads_by_image ON downloads(image_sha256);

            CREATE TABLE download_attempts (
                id INTEGER PRIMARY KEY,
                candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
                run_id INTEGER,
                attempt INTEGER NOT NULL,
                url TEXT NOT NULL,
                http_status INTEGER,
                error TEXT,
                wait_seconds REAL,
                started_at REAL NOT NULL,
                duration REAL
            );
            CREATE INDEX attempts_by_candidate ON download_attempts(candidate_id);

            CREATE TABLE filter_decisions (
                image_sha256 TEXT NOT NULL REFERENCES images(sha256) ON DELETE CASCADE,
                keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
                rule TEXT NOT NULL,
                settings_hash TEXT NOT NULL,
                pass INTEGER NOT NULL,
                value TEXT,
                threshold TEXT,
                reason TEXT,
                decided_at REAL NOT NULL,
                PRIMARY KEY (image_sha256, keyword_id, rule)
            );

            CREATE TABLE descriptions (
                id INTEGER PRIMARY KEY,
                keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
                image_sha256 TEXT NOT NULL DEFAULT '',
                aspect TEXT NOT NULL,
                mode TEXT NOT NULL CHECK (mode IN ('image-grounded', 'text-only')),
                language TEXT NOT NULL,
                variant INTEGER NOT NULL DEFAULT 0,
                template_sha256 TEXT NOT NULL,
                model TEXT NOT NULL,
                text TEXT,
                status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'failed')),
                reason TEXT,
                detail TEXT,
                request_key TEXT,
                prompt_tokens INTEGER NOT NULL DEFAULT 0,
                completion_tokens INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL,
                UNIQUE (keyword_id, image_sha256, aspect, mode, language, variant, template_sha256, model)
            );

            CREATE TABLE questions (
                id TEXT PRIMARY KEY NOT NULL,
                keyword_id INTEGER REFERENCES keywords(id) ON DELETE CASCADE,
                image_sha256 TEXT NOT NULL DEFAULT '',
                type INTEGER NOT NULL,
                question TEXT NOT NULL,
                options TEXT NOT NULL,
                answer INTEGER NOT NULL,
                aspect TEXT,
                rationale TEXT,
                category TEXT,
                split TEXT NOT NULL DEFAULT 'train',
                status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'failed')),
                reason TEXT,
                origin TEXT NOT NULL DEFAULT 'generated',
                model TEXT,
                template_sha256 TEXT,
                request_key TEXT,
                leaky INTEGER,
                extra TEXT NOT NULL DEFAULT '{}',
                created_at REAL NOT NULL
            );
            CREATE INDEX questions_by_keyword ON questions(keyword_id);

            CREATE TABLE llm_cache (
                key TEXT PRIMARY KEY NOT NULL,
                model TEXT NOT NULL,
                purpose TEXT,
                response TEXT NOT NULL,
                prompt_tokens INTEGER NOT NULL DEFAULT 0,
                completion_tokens INTEGER NOT NULL DEFAULT 0,
                cached_tokens INTEGER NOT NULL DEFAULT 0,
                hits INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL
            );

            CREATE TABLE runs (
                id INTEGER PRIMARY KEY,
                command TEXT NOT NULL,
                settings TEXT NOT NULL DEFAULT '{}',
                started_at REAL NOT NULL,
                finished_at REAL,
                status TEXT NOT NULL DEFAULT 'running',
                counts TEXT NOT NULL DEFAULT '{}',
                dsbuild_version TEXT NOT NULL
            );

            CREATE TABLE train_runs (
                id INTEGER PRIMARY KEY,
                run_id INTEGER REFERENCES runs(id),
                out_dir TEXT NOT NULL,
                mode TEXT NOT NULL,
                model TEXT NOT NULL,
                config TEXT NOT NULL,
                fingerprint TEXT,
                shards TEXT NOT NULL DEFAULT '[]',
                status TEXT NOT NULL,
                steps INTEGER,
                first_loss REAL,
                final_loss REAL,
                wall_seconds REAL,
                peak_memory_bytes INTEGER,
                energy_joules REAL,
                checkpoint TEXT,
                error TEXT,
                created_at REAL NOT NULL
            );

            CREATE TABLE eval_results (
                id INTEGER PRIMARY KEY,
                run_id INTEGER REFERENCES runs(id),
                model TEXT NOT NULL,
                label TEXT,
                condition TEXT NOT NULL,
                circular INTEGER NOT NULL DEFAULT 0,
                questions_source TEXT NOT NULL,
                train_run_id INTEGER REFERENCES train_runs(id),
                result TEXT NOT NULL,
                created_at REAL NOT NULL
            );
            """)
    }
}
