-- An appointment's reminders whatever became of them (fired, cancelled, not only waiting), found by their match key: a
-- reschedule makes a reminder again for the new time when the one for the old time already went out, and withdraws a
-- fired one still waiting for its provider. The partial index scheduled_send_match covers only waiting rows.
CREATE INDEX scheduled_send_match_any ON scheduled_send (match_key, notification_id) WHERE match_key IS NOT NULL;
