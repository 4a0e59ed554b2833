#!/usr/bin/perl
# A loopback HTTP server for smam's tests and demo: it stands in for the
# platforms' APIs. Each connection is served by a child process (so a slow
# answer does not hold up the others), keep-alive included. What it does
# depends on the last segment of the path (the account's handle):
#
#   /publish/ok...     200 {"id":"post-N"}      (N counts the requests)
#   /publish/fail...   500
#   /publish/busy...   429 with Retry-After: 1
#   /publish/slow...   waits 5 s, then 200
#   /publish/bad...    400
#   /publish/flaky...  500 the first time a key is seen, then 200
#   /publish/denied... 401
#   /publish/big...    200 with a 2 MB body
#   /publish/hop...    301 to another host
#   answers a platform should never give (each must fail only its own delivery):
#   /publish/nul...    200 {"id":"a\u0000b"}     /publish/deep...   200, arrays 200,000 deep
#   /publish/huge...   200 {"data":{"id": 1e1000000}}    /publish/latin...  200, a body in ISO-8859-1
#   /publish/objid...  200 {"data":{"id":{"internal":"SECRET-INTERNAL"}}} (an internal service)
#   /publish/longid... 200 with a 300-character id
#   /publish/latinerr... 400, a body in ISO-8859-1
#   /profile/gone...   404;  /profile/moved...  301 to another host;
#   /profile/latinmoved... 301 to a Location in ISO-8859-1;  else 200
#   /metrics/...       200 {"followers": 120, "impressions": 3400, "engagements": 87,
#                           "data": {"public_metrics": {"followers_count": 5}}}
#   /metrics/nul..., deep..., huge..., latinone...: the bad answers above, as metrics
#
# An https request (a TLS handshake) gets a plain-text answer, which fails
# the client's TLS layer.
#
# Every request is appended to the log: method, path, Idempotency-Key,
# Authorization, body (tab-separated, one line).
#
# usage: http_server.pl PORTFILE LOGFILE   (writes the port it listens on)
use strict;
use warnings;
use IO::Socket::INET;
use Socket qw(MSG_PEEK);
use Fcntl qw(:flock);
use POSIX ();

my ($portfile, $logfile) = @ARGV;
die "usage: $0 PORTFILE LOGFILE\n" unless $portfile && $logfile;

my $port_of_redirect = 80;
my $server = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 128, ReuseAddr => 1, Proto => 'tcp')
  or die "cannot listen: $!\n";
$SIG{CHLD} = sub { 1 while waitpid(-1, POSIX::WNOHANG()) > 0 };
$SIG{TERM} = sub { exit 0 };
open my $pf, '>', "$portfile.tmp" or die $!;
print $pf $server->sockport, "\n";
close $pf;
rename "$portfile.tmp", $portfile or die $!;

sub log_request {
    my ($line) = @_;
    open my $lf, '>>', $logfile or return;
    flock $lf, LOCK_EX;
    print $lf $line, "\n";
    close $lf;
}

sub seen_before {
    my ($key) = @_;
    return 0 unless $key && open my $lf, '<', $logfile;
    my $n = 0;
    while (<$lf>) { my @f = split /\t/; $n++ if defined $f[2] && $f[2] eq $key }
    return $n > 1;    # the current request is already logged
}

sub count_requests {
    open my $lf, '<', $logfile or return 0;
    my $n = 0;
    $n++ while <$lf>;
    return $n;
}

sub respond {
    my ($c, $status, $headers, $body) = @_;
    my %reason = (200 => 'OK', 301 => 'Moved Permanently', 400 => 'Bad Request', 401 => 'Unauthorized',
                  404 => 'Not Found', 429 => 'Too Many Requests', 500 => 'Internal Server Error');
    $body //= '';
    my $h = "HTTP/1.1 $status " . ($reason{$status} // 'Status') . "\r\n"
          . "Content-Length: " . length($body) . "\r\n" . ($headers // '')
          . "Content-Type: application/json\r\n\r\n";
    print $c $h, $body;
}

sub serve {
    my ($c) = @_;
    $c->autoflush(1);
    # A TLS ClientHello (https to this plain server): answer in plain text,
    # which the client's TLS layer rejects.
    my $first = '';
    recv($c, $first, 1, MSG_PEEK);
    if ($first ne '' && ord($first) == 0x16) {
        print $c "HTTP/1.0 400 Bad Request\r\n\r\nthis server speaks plain HTTP\r\n";
        close $c;
        return;
    }
    while (1) {
        my $start = <$c>;
        last unless defined $start;
        next if $start =~ /^\r?\n$/;
        my ($method, $path) = $start =~ m{^(\S+)\s+(\S+)};
        last unless $method;
        my %h;
        while (my $l = <$c>) {
            last if $l =~ /^\r?\n$/;
            $h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*?)\r?\n$/;
        }
        my $body = '';
        read($c, $body, $h{'content-length'}) if $h{'content-length'};
        my $key = $h{'idempotency-key'} // '';
        (my $flat = $body) =~ s/[\t\r\n]/ /g;
        log_request(join "\t", time, $method, $key, $path, $h{authorization} // '', $flat);
        my ($kind, $handle) = $path =~ m{^/(\w+)/([^/?]*)};
        $kind //= '';
        $handle //= '';
        if ($kind eq 'publish') {
            if    ($handle =~ /^fail/)   { respond($c, 500, '', '{"error":"boom"}') }
            elsif ($handle =~ /^busy/)   { respond($c, 429, "Retry-After: 1\r\n", '{"error":"slow down"}') }
            elsif ($handle =~ /^slow/)   { sleep 5; respond($c, 200, '', '{"id":"late"}') }
            elsif ($handle =~ /^bad/)    { respond($c, 400, '', '{"error":"bad request"}') }
            elsif ($handle =~ /^denied/) { respond($c, 401, '', '{"error":"bad token"}') }
            elsif ($handle =~ /^hop/)    { respond($c, 301, "Location: http://127.0.0.2:$port_of_redirect/publish/$handle\r\n", '') }
            elsif ($handle =~ /^big/)    { respond($c, 200, '', '{"id":"' . ('x' x 2_000_000) . '"}') }
            elsif ($handle =~ /^flaky/ && !seen_before($key)) { respond($c, 500, '', '{"error":"first time"}') }
            elsif ($handle =~ /^nul/)    { respond($c, 200, '', '{"id":"a\\u0000b"}') }
            elsif ($handle =~ /^deep/)   { respond($c, 200, '', ('[' x 200_000) . (']' x 200_000)) }
            elsif ($handle =~ /^huge/)   { respond($c, 200, '', '{"data":{"id": 1e1000000}}') }
            elsif ($handle =~ /^latinerr/) { respond($c, 400, '', "{\"error\":\"caf\xe9 ferm\xe9\"}") }
            elsif ($handle =~ /^latin/)  { respond($c, 200, '', "{\"id\":\"caf\xe9\"}") }
            elsif ($handle =~ /^objid/)  { respond($c, 200, '', '{"data":{"id":{"internal":"SECRET-INTERNAL"}}}') }
            elsif ($handle =~ /^longid/) { respond($c, 200, '', '{"data":{"id":"' . ('7' x 300) . '"}}') }
            else { respond($c, 200, '', '{"data":{"id":"post-' . count_requests() . '"},"id":"post-' . count_requests() . '"}') }
        }
        elsif ($kind eq 'profile') {
            if    ($handle =~ /^gone/)  { respond($c, 404, '', '') }
            elsif ($handle =~ /^moved/) { respond($c, 301, "Location: https://elsewhere.example/$handle\r\n", '') }
            elsif ($handle =~ /^latinmoved/) { respond($c, 301, "Location: https://elsewhere.example/caf\xe9\r\n", "caf\xe9") }
            else { respond($c, 200, '', '{}') }
        }
        elsif ($kind eq 'metrics' && $handle =~ /^nul/)   { respond($c, 200, '', '{"followers": 1, "n\\u0000": 2}') }
        elsif ($kind eq 'metrics' && $handle =~ /^deep/)  { respond($c, 200, '', '{"a":' . ('[' x 200_000) . (']' x 200_000) . '}') }
        elsif ($kind eq 'metrics' && $handle =~ /^huge/)  { respond($c, 200, '', '{"followers": 1e1000000}') }
        elsif ($kind eq 'metrics' && $handle =~ /^latinone/) { respond($c, 200, '', "{\"caf\xe9\": 1}") }
        elsif ($kind eq 'metrics') {
            respond($c, 200, '', '{"followers": 120, "impressions": 3400, "engagements": 87, "data": {"public_metrics": {"followers_count": 5}}}');
        }
        else { respond($c, 404, '', '') }
        last if lc($h{connection} // '') eq 'close';
    }
    close $c;
}

while (1) {
    my $c = $server->accept or next;
    my $pid = fork;
    if (!defined $pid) { close $c; next }
    if ($pid == 0) { close $server; serve($c); exit 0 }
    close $c;
}
