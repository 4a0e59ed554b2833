-- The public index and its exports exactly as a website receives them: the
-- canada.ca feed in English and French (HTML-escaped), the JSON document for
-- APIs, and CSV through COPY; then what the public may and may not read.
\set VERBOSITY default
SET client_min_messages = warning;
CREATE EXTENSION smam;
CREATE ROLE pi_public LOGIN; GRANT smam_public TO pi_public;
SELECT smam.add_department('Department of <Examples> & Tests', 'Ministère des « Exemples » & essais') AS dept \gset
SELECT smam.add_department('Other Department', NULL) AS other \gset
SELECT smam.onboard_account(:dept, 'Twitter', 'http://twitter.com/ExampleDept/', 'Examples "<b>bold</b>"', 'Exemples l''officiel',
                            'bilingual', 'listed in the canada.ca index', NULL, '2026-01-16') > 0 AS onboarded;
SELECT smam.onboard_account(:other, 'facebook', 'facebook.com/OtherDept?ref=page', 'Other', NULL,
                            'english', 'listed in the canada.ca index', NULL, '2026-06-02') > 0 AS onboarded;
SELECT smam.onboard_account(:other, 'youtube', 'https://www.youtube.com/@AutreMinistere/featured', NULL, 'Autre chaîne',
                            'french', 'listed in the canada.ca index', NULL, '2026-06-02') > 0 AS onboarded;
SET ROLE pi_public;
SELECT * FROM smam.public_index ORDER BY url;
SELECT jsonb_pretty(smam.public_index_feed('en'));
SELECT jsonb_pretty(smam.public_index_feed('fr'));
SELECT smam.public_index_feed_json('en');
SELECT jsonb_pretty(smam.public_index_document() -> 'accounts' -> 0);
COPY (SELECT * FROM smam.public_index ORDER BY url) TO STDOUT WITH (FORMAT csv, HEADER);
-- The public reads the index, nothing else.
SELECT smam.public_index_feed('es');
SELECT count(*) FROM smam.account;
SELECT count(*) FROM smam.compliance_summary;
RESET ROLE;
DROP EXTENSION smam;
DROP ROLE pi_public;
