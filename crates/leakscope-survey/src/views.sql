-- The questions people ask of a survey, as views (SQLite and PostgreSQL).
-- Recreated on every start, so they follow the tables. Listed in docs/survey.md.

DROP VIEW IF EXISTS survey_progress;
CREATE VIEW survey_progress AS
SELECT survey, status, COUNT(*) AS sites
FROM sites GROUP BY survey, status;

-- Sites that sent health information with an identifier to Meta (Pixel or CAPI).
DROP VIEW IF EXISTS sites_health_to_meta;
CREATE VIEW sites_health_to_meta AS
SELECT s.survey, s.id, s.domain, s.url, s.category,
       COUNT(*) AS findings,
       MIN(f.health_categories) AS example_categories,
       MIN(f.page_url) AS example_page
FROM sites s
JOIN findings f ON f.survey = s.survey AND f.site_id = s.id
WHERE f.vendor LIKE 'meta%' AND f.health_categories <> '' AND f.rule <> 'consent.ignored'
GROUP BY s.survey, s.id, s.domain, s.url, s.category;

-- Per vendor: how many scanned sites send it anything, and how many leak health data to it.
DROP VIEW IF EXISTS per_vendor;
CREATE VIEW per_vendor AS
SELECT e.survey, e.vendor,
       COUNT(DISTINCT e.site_id) AS sites_with_events,
       COUNT(*) AS events,
       (SELECT COUNT(DISTINCT f.site_id) FROM findings f
         WHERE f.survey = e.survey AND f.vendor = e.vendor AND f.health_categories <> '') AS sites_with_health_findings
FROM events e
GROUP BY e.survey, e.vendor;

-- Per health category (reproductive, hiv, mental_health…): findings and sites.
DROP VIEW IF EXISTS per_health_category;
CREATE VIEW per_health_category AS
SELECT survey, category, COUNT(*) AS findings, COUNT(DISTINCT site_id) AS sites
FROM finding_categories
GROUP BY survey, category;

-- Sites whose trackers kept receiving data after the consent banner was refused.
DROP VIEW IF EXISTS tracking_after_reject;
CREATE VIEW tracking_after_reject AS
SELECT s.survey, s.id, s.domain, s.url, f.vendor, f.event, f.severity
FROM sites s
JOIN findings f ON f.survey = s.survey AND f.site_id = s.id
WHERE f.rule = 'consent.ignored';

-- Per value of each of the list's own columns (state, category…): sites
-- scanned and sites sending health data with an identifier.
DROP VIEW IF EXISTS per_list_column;
CREATE VIEW per_list_column AS
SELECT c.survey, c.name AS list_column, c.value,
       COUNT(*) AS sites,
       SUM(CASE WHEN s.status = 'done' THEN 1 ELSE 0 END) AS scanned,
       SUM(s.meta_pixel) AS with_meta_pixel,
       SUM(s.health_with_identity) AS with_health_leak
FROM site_columns c
JOIN sites s ON s.survey = c.survey AND s.id = c.site_id
GROUP BY c.survey, c.name, c.value;

-- Why sites could not be scanned.
DROP VIEW IF EXISTS failures;
CREATE VIEW failures AS
SELECT survey, status, failure_kind, COUNT(*) AS sites, MIN(failure_message) AS example
FROM sites
WHERE status IN ('unreachable', 'error')
GROUP BY survey, status, failure_kind;
