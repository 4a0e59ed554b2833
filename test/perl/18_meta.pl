# META.json is valid for PGXN (the fields and forms of the PGXN Meta Spec
# 1.0.0, https://pgxn.org/spec/), and says what smam.control and the build
# say: the version installed, the file that holds the extension, PostgreSQL
# 15 only, plpgsql required. No server needed.
use strict;
use warnings;
use JSON::PP;
use Test::More;

my $src = $ENV{SMAM_SRC} or BAIL_OUT('SMAM_SRC is not set');
sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or die "$f: $!"; local $/; return <$fh> }

my $meta = eval { JSON::PP->new->utf8->relaxed(0)->decode(slurp("$src/META.json")) };
ok($meta && ref $meta eq 'HASH', 'META.json is one JSON object') or diag($@);
$meta ||= {};
my $control = slurp("$src/smam.control");
my %control = $control =~ /^\s*(\w+)\s*=\s*'([^']*)'/mg;

# The spec's forms.
my $semver = qr/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
my $term   = qr/^[^\s\/\\:]{2,}$/;    # no white space, slash, backslash or colon; two characters at least
my $range  = qr/^(?:0|(?:(?:==|!=|>=|<=|>|<)\s*)?\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+)?)$/;
my %license = map { $_ => 1 } qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2 bsd freebsd gfdl_1_2
  gfdl_1_3 gpl_1 gpl_2 gpl_3 lgpl_2_1 lgpl_3_0 mit mozilla_1_0 mozilla_1_1 openssl perl_5 postgresql qpl_1_0
  ssleay sun zlib open_source restricted unrestricted unknown);
my %top = map { $_ => 1 } qw(name version abstract maintainer license provides meta-spec description
  generated_by tags no_index prereqs release_status resources);

for my $field (qw(name version abstract maintainer license provides meta-spec)) {
    ok(exists $meta->{$field}, "the spec's required field $field is there");
}
is_deeply([grep { !$top{$_} && !/^[xX]_/ } sort keys %$meta], [], 'no field the spec does not know (custom ones start with x_)');
like($meta->{name} // '', $term, 'name is a term');
is($meta->{name}, 'smam', '... the extension\'s');
like($meta->{version} // '', $semver, 'version is a semantic version');
ok(length($meta->{abstract} // '') > 0, 'abstract is a non-empty string');
ok(!ref $meta->{maintainer} || (ref $meta->{maintainer} eq 'ARRAY' && @{$meta->{maintainer}}),
   'maintainer is a string or a non-empty list');
ok((!ref $meta->{license} && $license{$meta->{license} // ''}) || ref $meta->{license} eq 'HASH',
   'license is one the spec names (or a map of names to URLs)');
is($meta->{'meta-spec'}{version}, '1.0.0', 'meta-spec is version 1.0.0');
like($meta->{release_status} // '', qr/^(stable|testing|unstable)$/, 'release_status is stable, testing or unstable');
is_deeply([grep { ref $meta->{tags}[$_] || length $meta->{tags}[$_] > 255 } 0 .. $#{$meta->{tags} || []}], [],
          'tags are strings of 255 characters at most');

# provides: the extension, its version and the file that holds it.
my $p = $meta->{provides}{smam} || {};
like($p->{version} // '', $semver, 'provides.smam.version is a semantic version');
my ($maj, $min, $patch) = ($control{default_version} // '') =~ /^(\d+)\.(\d+)(?:\.(\d+))?$/;
ok(defined $maj, "smam.control's default_version is MAJOR.MINOR ($control{default_version})");
my $as_semver = defined $maj ? "$maj.$min." . ($patch // 0) : '';
is($meta->{version}, $as_semver, "META.json's version is smam.control's default_version");
is($p->{version}, $as_semver, '... and so is the extension\'s');
is($p->{file}, "sql/releases/smam--$control{default_version}.sql",
   'provides.smam.file is the kept full script of that version (the built one is not in the repository)');
ok(-f "$src/$p->{file}", "... and $p->{file} exists");
ok(!$p->{docfile} || -f "$src/$p->{docfile}", 'docfile exists');

# prereqs: the phases and relationships of the spec, version ranges in its form.
my @bad;
for my $phase (sort keys %{$meta->{prereqs} || {}}) {
    push @bad, "phase $phase" unless $phase =~ /^(configure|build|test|runtime|develop)$/;
    for my $rel (sort keys %{$meta->{prereqs}{$phase}}) {
        push @bad, "$phase.$rel" unless $rel =~ /^(requires|recommends|suggests|conflicts)$/;
        while (my ($name, $r) = each %{$meta->{prereqs}{$phase}{$rel}}) {
            push @bad, "$phase.$rel.$name: $r" if grep { $_ !~ $range } split /\s*,\s*/, $r;
        }
    }
}
is_deeply(\@bad, [], 'prereqs: known phases and relationships, version ranges the spec reads');
is($meta->{prereqs}{runtime}{requires}{PostgreSQL}, '>= 15.0.0, < 16.0.0',
   'PostgreSQL 15 only: the one the Makefile builds against and the tests run on');
my @requires = split /\s*,\s*/, $control{requires} // '';
is_deeply(\@requires, ['plpgsql'], "smam.control requires plpgsql (smam's SQL functions are written in it)");
ok(exists $meta->{prereqs}{runtime}{requires}{$_}, "META.json requires $_ too") for @requires;

# resources, when there: URLs.
for my $r (sort keys %{$meta->{resources} || {}}) {
    my $v = $meta->{resources}{$r};
    my @urls = ref $v eq 'HASH' ? grep { defined } @{$v}{qw(web url)} : ($v);
    like($_, qr{^(https?|git)://\S+$}, "resources.$r: $_ is a URL") for @urls;
}
done_testing();
