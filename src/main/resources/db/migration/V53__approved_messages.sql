-- What was approved is what is sent (issue 16 point 1). An approval records, per channel, the SHA-256 of the message the
-- approver was shown (recipient and every rendered part: io.herald.approval.PreviewDigest). Right before a delivery of an
-- approved notification is claimed for sending, its message is rendered again and compared: one that changed since (a
-- template, the catalog or the customer's details edited, an address corrected before an operator's retry), or a channel
-- the approver was never shown (a first-success chain's next channel after the approved one failed), is not sent: the
-- delivery goes back to AWAITING_APPROVAL and the approval is reopened (AWAITING again, with a fresh expiry and why), so
-- an approver reads the new message before it goes out. Approvals decided before V53 carry no digests and are not checked.
ALTER TABLE approval
  ADD COLUMN approved_digests JSONB,   -- channel -> digest of what was approved; merged when a reopened approval is approved
  ADD COLUMN reopened_because TEXT;    -- why it awaits approval again (null: awaiting for the first time, or decided)
