-- Platforms, their spellings, and the URL of an account on each: the dirt of
-- the real canada.ca index, normalized; what cannot be, refused with a reason.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(49);

SELECT set_eq($$ SELECT name FROM smam.platform $$,
  ARRAY['Facebook', 'X', 'Instagram', 'YouTube', 'LinkedIn', 'Flickr'], 'the platforms of the real index ship');

-- Every spelling seen in the data resolves.
SELECT is(smam.platform_of('X'), 'x', 'X');
SELECT is(smam.platform_of('x'), 'x', 'x');
SELECT is(smam.platform_of('twitter'), 'x', 'twitter is X');
SELECT is(smam.platform_of('Youtube'), 'youtube', 'Youtube');
SELECT is(smam.platform_of('Linkedin'), 'linkedin', 'Linkedin');
SELECT is(smam.platform_of('Intagram'), 'instagram', 'Intagram');
SELECT is(smam.platform_of(' Facebook '), 'facebook', 'surrounding blanks do not matter');
SELECT is(smam.platform_of('Reddit'), NULL, 'an unknown platform is NULL');

-- Generic normalization (C).
SELECT is(smam.normalize_url('www.facebook.com/nserccanada'), 'https://www.facebook.com/nserccanada', 'a missing scheme becomes https');
SELECT is(smam.normalize_url('http://Twitter.com/CanadianPM/'), 'https://twitter.com/CanadianPM', 'http, host case and trailing slash');
SELECT is(smam.normalize_url('https://www.facebook.com/CanEmbPH?ref=br_tf'), 'https://www.facebook.com/CanEmbPH', 'tracking parameters go');
SELECT is(smam.normalize_url('https://www.facebook.com/profile.php?id=123&ref=x'), 'https://www.facebook.com/profile.php?id=123', 'meaningful parameters stay');
SELECT is(smam.normalize_url('https://x.com:443//a//b#frag'), 'https://x.com/a/b', 'default port, repeated slashes, fragment');
SELECT is(smam.normalize_url('  https://x.com/a  '), 'https://x.com/a', 'surrounding blanks');
SELECT is(smam.normalize_url('https://example.ca:8443/a'), 'https://example.ca:8443/a', 'another port is kept');
SELECT throws_ok($$ SELECT smam.normalize_url('https://www.linkedin.com/company/equ ipe-impact-canada-team/') $$, '22023', NULL,
  'white space inside a URL is refused (a row of the real index)');
SELECT throws_like($$ SELECT smam.normalize_url('ftp://example.ca/a') $$, '%invalid URL%', 'only http and https');
SELECT throws_ok($$ SELECT smam.normalize_url('javascript:alert(1)') $$, '22023', NULL, 'not javascript:');
SELECT throws_ok($$ SELECT smam.normalize_url('https://user:pw@x.com/a') $$, '22023', NULL, 'no user name before the host');
SELECT throws_ok($$ SELECT smam.normalize_url('https:///a') $$, '22023', NULL, 'a host is needed');
SELECT throws_ok($$ SELECT smam.normalize_url('https://localhost/a') $$, '22023', NULL, 'a host is a domain name');
SELECT throws_ok($$ SELECT smam.normalize_url('https://x.com:99999/a') $$, '22023', NULL, 'a port is at most 65535');
SELECT throws_ok($$ SELECT smam.normalize_url('') $$, '22023', NULL, 'an empty URL');
SELECT is(smam.url_problem('https://x.com/a b'), 'The URL contains white space or a control character.', 'the problem, without raising');
SELECT is(smam.url_problem('https://x.com/ok'), NULL, 'no problem: NULL');

-- Accounts on platforms: hosts, canonical forms, shapes.
SELECT is((smam.check_account_url('https://twitter.com/CanadianPM')).canonical_url, 'https://x.com/CanadianPM', 'twitter.com is x.com');
SELECT is((smam.check_account_url('https://twitter.com/rcmppeitraffic?lang=en')).canonical_url, 'https://x.com/rcmppeitraffic', 'with its display parameter gone');
SELECT is((smam.check_account_url('facebook.com/CanBorder/')).canonical_url, 'https://www.facebook.com/CanBorder', 'facebook.com is www.facebook.com');
SELECT is((smam.check_account_url('https://www.facebook.com/pg/CanadaBusiness/about/?ref=page_internal')).canonical_url,
  'https://www.facebook.com/CanadaBusiness', 'a Facebook sub-page is the page');
SELECT is((smam.check_account_url('https://www.facebook.com/pages/Public-Health-Agency-of-Canada/10860597051?fref=ts')).canonical_url,
  'https://www.facebook.com/pages/Public-Health-Agency-of-Canada/10860597051', 'an old Facebook page address');
SELECT is((smam.check_account_url('https://ca.linkedin.com/company/infrastructure-canada')).canonical_url,
  'https://www.linkedin.com/company/infrastructure-canada', 'ca.linkedin.com is www.linkedin.com');
SELECT is((smam.check_account_url('https://www.linkedin.com/company/privy-council-office/about/')).canonical_url,
  'https://www.linkedin.com/company/privy-council-office', 'a LinkedIn about page is the company');
SELECT is((smam.check_account_url('https://www.youtube.com/user/rcmpnlsocial/featured?disable_polymer=1')).canonical_url,
  'https://www.youtube.com/user/rcmpnlsocial', 'a YouTube channel page');
SELECT is((smam.check_account_url('http://flickr.com/photos/lac-bac/')).canonical_url, 'https://www.flickr.com/photos/lac-bac', 'Flickr');
SELECT is((smam.check_account_url('https://www.instagram.com/fac_caf_ukraine/?hl=en')).handle, 'fac_caf_ukraine', 'the handle');
SELECT is((smam.check_account_url('https://x.com/CanadianPM')).url_key, (smam.check_account_url('http://www.twitter.com/canadianpm/')).url_key,
  'two spellings of one account have one key');

SELECT is((smam.check_account_url('https://www.facebook.com/x', 'X')).problem, 'The URL is an address on Facebook, not on X.',
  'a URL on another platform''s host is a problem (a row of the real index)');
SELECT alike((smam.check_account_url('https://example.ca/page')).problem, 'The host example.ca is not the host of a known platform.', 'an unknown host');
SELECT alike((smam.check_account_url('https://x.com/this_handle_is_far_too_long')).problem, '%does not have the shape of an account on X%',
  'an X handle has at most 15 characters');
SELECT alike((smam.check_account_url('https://x.com/a', 'Myspace')).problem, '"Myspace" is not a known platform.', 'an unknown platform name');
SELECT alike((smam.check_account_url('https://www.youtube.com/watch?v=abc', 'YouTube')).problem,
  '%does not have the shape of an account on YouTube%', 'a video is not an account');
SELECT throws_ok($$ SELECT smam.account_url('https://www.youtube.com/watch?v=abc', 'YouTube') $$,
  '22023', 'invalid account URL "https://www.youtube.com/watch?v=abc"', 'account_url refuses it');
SELECT is(smam.normalize_url('https://facebook.com/PayeAvantagesSociauxEmployésGC'),
  'https://facebook.com/PayeAvantagesSociauxEmploy%C3%A9sGC', 'an accented name is percent-encoded (a row of the real index)');
SELECT is(smam.normalize_url('https://x.com/a%c3%a9%zz'), 'https://x.com/a%C3%A9%25zz', 'escapes in upper case, a stray % escaped');
SELECT throws_like($$ SELECT smam.normalize_url('https://exämple.ca/a') $$, '%invalid URL%', 'an accented host is refused');
SELECT is((smam.check_account_url('http://twitter.com/@SalledePresseGC')).canonical_url, 'https://x.com/SalledePresseGC', 'an @ before an X handle');
SELECT is((smam.check_account_url('https://www.linkedin.com/company/12599001/admin/feed/posts/')).canonical_url,
  'https://www.linkedin.com/company/12599001', 'a LinkedIn admin link is the company''s page');
SELECT is(smam.account_url('https://Twitter.com/CanadianPM', 'twitter'), 'https://x.com/CanadianPM', 'account_url gives the canonical URL');

SELECT * FROM finish();
ROLLBACK;
