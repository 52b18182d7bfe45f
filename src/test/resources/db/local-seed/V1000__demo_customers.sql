-- Demo customers for the local profile and the tests only (not shipped in the image).
-- Ids match ../shared/samples so the sample events resolve.
INSERT INTO customer (customer_id, display_name, email, phone, push_tokens, locale, time_zone, preferences) VALUES
 ('cus_RkT4aB7cD9eF1g', 'Jenny Rosen', 'jenny.rosen@example.org', '+447700900123',
  '["fcm:dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"]', 'en-GB', 'Europe/London',
  '{"billing": ["email", "sms"], "orders": ["email", "push"], "support": ["email", "in_app"], "marketing": []}'),
 ('cus_QwE5rT6yU7iO8p', 'Amara Okafor', 'amara.okafor@example.com', '+15555550100',
  '[]', 'en-US', 'America/New_York',
  '{"billing": ["email"], "orders": ["email", "sms"], "support": ["email"], "marketing": []}'),
 ('cus_NffrFeUfNV2Hib', 'Lukas Müller', 'lukas.mueller@example.de', '+4915123456789',
  '[]', 'de-DE', 'Europe/Berlin',
  '{"billing": ["email", "sms"], "orders": ["email"], "support": ["email"], "marketing": []}');
