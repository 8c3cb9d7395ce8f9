-- learning_common_beat: a common heartbeat in one statement on PostgreSQL.
--
-- The twin of learning/heartbeat/rule.py's decide_beat with the common path's writes
-- (store.record_common_beat_in_process, the reference, used on SQLite;
-- tests/learning/test_common_beat_sql.py checks that both agree on generated sessions): lock
-- the person, read the tab's open session with the lesson's progress, decide, then write the
-- session, the credit and the month's ledger row. It writes nothing unless the beat is a
-- common one; otherwise it answers 'general' (the caller takes the general path) or
-- 'too_fast'. The rule's numbers (minimum and maximum gap, cap, completion line) are
-- parameters, so they stay in Python.
--
-- Learning migration 0007 installs this file. A database keeps the function it was migrated
-- with: a change here needs a migration that runs this file again (and the hash in
-- tests/learning/test_common_beat_function.py updated); the test there compares this file
-- with pg_get_functiondef of the installed function.
CREATE OR REPLACE FUNCTION learning_common_beat(
    p_person bigint, p_lesson bigint, p_tab text, p_now timestamptz,
    p_min_gap interval, p_max_gap interval, p_cap bigint, p_line numeric,
    p_source text, p_key text, p_period date,
    p_in_progress text, p_completed text, p_changed timestamptz,
    OUT o_outcome text, OUT o_progress_id bigint, OUT o_credited bigint,
    OUT o_quiz_passed boolean, OUT o_completed_at timestamptz
) LANGUAGE plpgsql AS $$
DECLARE
    v_session bigint;
    v_started timestamptz;
    v_last timestamptz;
    v_overlapped boolean;
    v_ledger boolean;
    v_old bigint;
    v_first bigint;
    v_old_end bigint;
    v_new_end bigint;
    v_seconds bigint;
BEGIN
    -- The transaction's commit may return before its WAL reaches the disk (as on the
    -- general path): a crash loses at most the last fraction of a second of beats.
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM 1 FROM people_person WHERE id = p_person FOR NO KEY UPDATE;
    SELECT s.id, s.started_at, s.last_beat_at,
        EXISTS (
            SELECT 1 FROM learning_studysession o
            WHERE o.person_id = s.person_id AND o.id <> s.id
                AND o.started_at < p_now AND o.last_beat_at > s.last_beat_at
        ),
        p.id, p.credited_seconds, p.quiz_passed, p.completed_at,
        EXISTS (
            SELECT 1 FROM learning_participationrecord g
            WHERE g.person_id = p_person AND g.source = p_source
                AND g.requirement_key = p_key AND g.period = p_period
        )
    INTO v_session, v_started, v_last, v_overlapped,
        o_progress_id, v_old, o_quiz_passed, o_completed_at, v_ledger
    FROM learning_studysession s
    LEFT JOIN learning_lessonprogress p
        ON p.person_id = s.person_id AND p.lesson_id = s.lesson_id
    WHERE s.person_id = p_person AND s.lesson_id = p_lesson AND s.tab = p_tab AND s.is_open;

    o_outcome := 'general';
    IF v_session IS NULL THEN
        RETURN;
    END IF;
    IF p_now - v_last < p_min_gap THEN
        o_outcome := 'too_fast';
        RETURN;
    END IF;
    IF o_progress_id IS NULL OR p_now - v_last > p_max_gap THEN
        RETURN;
    END IF;
    -- whole seconds [first, end) of the session before and after the beat
    v_first := ceil(extract(epoch FROM v_started));
    v_old_end := greatest(v_first, floor(extract(epoch FROM v_last)));
    v_new_end := greatest(v_first, floor(extract(epoch FROM p_now)));
    IF v_new_end = v_old_end THEN
        v_seconds := v_old;
    ELSIF v_overlapped OR v_first = v_old_end OR v_old + (v_new_end - v_old_end) > p_cap THEN
        RETURN;
    ELSE
        v_seconds := v_old + (v_new_end - v_old_end);
    END IF;
    IF o_completed_at IS NULL AND v_seconds >= p_line AND v_old < p_line THEN
        RETURN;  -- completion: the quiz and the certificate
    END IF;
    IF v_seconds <> v_old AND v_old / 60 <> v_seconds / 60 AND NOT v_ledger THEN
        RETURN;  -- the month's first minute creates the row
    END IF;

    UPDATE learning_studysession SET last_beat_at = p_now, span_seconds = v_new_end - v_first
    WHERE id = v_session AND last_beat_at < p_now;
    IF v_seconds <> v_old THEN
        UPDATE learning_lessonprogress SET credited_seconds = v_seconds, updated_at = p_changed
        WHERE id = o_progress_id;
        IF v_old / 60 <> v_seconds / 60 THEN
            UPDATE learning_participationrecord r SET minutes = (
                SELECT greatest(v_seconds / 60 - COALESCE(SUM(e.minutes), 0), 0)
                FROM learning_participationrecord e
                WHERE e.person_id = p_person AND e.source = p_source
                    AND e.requirement_key = p_key AND e.period < p_period
            ),
            status = CASE WHEN o_completed_at IS NULL THEN p_in_progress ELSE p_completed END,
            updated_at = p_changed
            WHERE r.person_id = p_person AND r.source = p_source
                AND r.requirement_key = p_key AND r.period = p_period;
        END IF;
    END IF;
    o_credited := v_seconds;
    o_outcome := 'ok';
END
$$;
