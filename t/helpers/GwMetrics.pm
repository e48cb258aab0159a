package GwMetrics;

# Helpers for ngx_gw_metrics's tests:
#
#   has_lines(@lines)     a regex that needs every line, exactly, somewhere
#   promtool_check($text) runs `promtool check metrics`; returns (rc, output)
#   prometheus_start(...) a real Prometheus on loopback, stopped at exit
#   prometheus_query($q)  the query API's first sample value, or undef
#   chromium(...)         headless Chromium on a URL: DOM dump, screenshot

use strict;
use warnings;

use Exporter ();
use File::Temp qw(tempdir tempfile);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use JSON::PP ();

our @ISA = qw(Exporter);
our @EXPORT = qw(has_lines promtool_check prometheus_start prometheus_stop
                 prometheus_query chromium get_body);

my ($prom_pid, $prom_port, $prom_dir);


sub has_lines {
    my (@lines) = @_;
    my $re = join '', map { '(?=.*^' . quotemeta($_) . '$)' } @lines;
    return qr/\A(?sm)$re/;
}


sub get_body {
    my ($path, $headers) = @_;
    my $port = $ENV{TEST_NGINX_SERVER_PORT};
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "connect 127.0.0.1:$port: $!\n";
    my $h = join '', map { "$_\r\n" } @{ $headers || [] };
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n$h\r\n";
    local $/;
    my $raw = <$s>;
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    return wantarray ? ($body, $head) : $body;
}


sub promtool_check {
    my ($text) = @_;
    my ($fh, $file) = tempfile(UNLINK => 1);
    print $fh $text;
    close $fh;
    my $out = `promtool check metrics < '$file' 2>&1`;
    return ($? >> 8, $out);
}


sub free_port {
    for (1 .. 100) {
        my $port = 40000 + int(rand(20000));
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1);
        next unless $s;
        close $s;
        return $port;
    }
    die "no free port\n";
}


sub http_get {
    my ($port, $path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or return undef;
    print $s "GET $path HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    local $/;
    my $raw = <$s>;
    close $s;
    return undef unless defined $raw;
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    return $head =~ m{^HTTP/1\.\d 200} ? $body : undef;
}


# Prometheus scraping http://127.0.0.1:<target_port><path> every $interval
sub prometheus_start {
    my (%o) = @_;

    $prom_port = free_port();
    $prom_dir = tempdir(CLEANUP => 1);

    open my $fh, '>', "$prom_dir/prometheus.yml" or die $!;
    print $fh <<"YML";
global:
  scrape_interval: $o{interval}
  evaluation_interval: $o{interval}
scrape_configs:
  - job_name: gw
    metrics_path: $o{path}
    static_configs:
      - targets: ['127.0.0.1:$o{target_port}']
YML
    close $fh;

    $prom_pid = fork // die "fork: $!";
    if ($prom_pid == 0) {
        open STDOUT, '>', "$prom_dir/prometheus.log";
        open STDERR, '>&', \*STDOUT;
        exec 'prometheus', "--config.file=$prom_dir/prometheus.yml",
             "--storage.tsdb.path=$prom_dir/data",
             "--web.listen-address=127.0.0.1:$prom_port",
             '--log.level=warn'
            or exit 127;
    }

    my $deadline = time + 30;
    while (time < $deadline) {
        return $prom_port if defined http_get($prom_port, '/-/ready');
        last if waitpid($prom_pid, WNOHANG) == $prom_pid;
        sleep 0.2;
    }

    die "prometheus did not start:\n" . prometheus_log();
}


sub prometheus_log {
    open my $fh, '<', "$prom_dir/prometheus.log" or return '';
    local $/;
    return <$fh>;
}


sub prometheus_stop {
    return unless $prom_pid;
    kill 'TERM', $prom_pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        last if waitpid($prom_pid, WNOHANG) == $prom_pid;
        sleep 0.1;
    }
    kill 'KILL', $prom_pid if kill 0, $prom_pid;
    waitpid($prom_pid, 0);
    $prom_pid = undef;
}


# the query API's answer, decoded
sub prometheus_api {
    my ($path) = @_;
    my $body = http_get($prom_port, $path);
    return undef unless defined $body;
    return JSON::PP::decode_json($body);
}


sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}


# the value of the first sample of an instant query, or undef
sub prometheus_query {
    my ($q) = @_;
    my $r = prometheus_api('/api/v1/query?query=' . uri_escape($q));
    return undef unless $r && $r->{status} eq 'success';
    my $res = $r->{data}{result};
    return undef unless @$res;
    return $res->[0]{value}[1];
}


sub prometheus_targets {
    return prometheus_api('/api/v1/targets');
}


# headless Chromium: returns (dom, stderr); writes the screenshot if asked
sub chromium {
    my (%o) = @_;
    my $profile = tempdir(CLEANUP => 1);
    my @common = ('/usr/bin/chromium', '--headless', '--no-sandbox',
                  '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update', '--disable-sync',
                  '--disable-dev-shm-usage', '--enable-logging=stderr',
                  '--v=0', "--user-data-dir=$profile",
                  # 6000 and others are "unsafe" ports to Chromium (X11)
                  "--explicitly-allowed-ports=$ENV{TEST_NGINX_SERVER_PORT}",
                  "--virtual-time-budget=$o{budget}");

    my $dom = `@common --dump-dom '$o{url}' 2>'$profile/dom.err'`;
    my $err = do { local (@ARGV, $/) = "$profile/dom.err"; <> } // '';

    if ($o{screenshot}) {
        system("@common --window-size=1280,900 --hide-scrollbars "
               . "--screenshot='$o{screenshot}' '$o{url}' "
               . ">/dev/null 2>>'$profile/shot.err'");
    }

    return ($dom, $err);
}


END { prometheus_stop() }

1;
