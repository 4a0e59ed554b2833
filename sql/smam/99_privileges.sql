-- Last: nothing of smam is granted to PUBLIC. Functions are executable by
-- PUBLIC when created; take that back, leaving the grants made to the
-- smam_* roles above.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA smam FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA smam FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA smam FROM PUBLIC;
REVOKE ALL ON SCHEMA smam FROM PUBLIC;
