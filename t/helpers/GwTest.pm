package GwTest;

# Helpers for ngx_gw's tests, usable with the bundled runner and with the
# CPAN Test::Nginx alike:
#
#   use FindBin; use lib "$FindBin::Bin/helpers";
#   use GwTest;              # helpers only
#   use GwTest 'redis';      # and a real Redis on a free loopback port
#
# redis_start() exports TEST_NGINX_REDIS_PORT; the server is stopped when
# the test file ends.

use strict;
use warnings;

use Exporter ();
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(redis_start redis_stop redis_cmd redis_port http_request
                 parallel_requests free_port wait_port);

my $redis_pid;
my $redis_port;
my $redis_dir;


sub import {
    my ($class, @args) = @_;

    my @rest = grep { $_ ne 'redis' } @args;
    redis_start() if @rest != @args;

    local $Exporter::ExportLevel = 1;
    Exporter::import($class, @rest);
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


sub wait_port {
    my ($port, $timeout) = @_;
    my $deadline = time + ($timeout // 10);

    while (time < $deadline) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        if ($s) {
            close $s;
            return 1;
        }
        sleep 0.02;
    }
    return 0;
}


sub redis_port { return $redis_port }


# Starts Redis on the port it had before (for a restart mid-test) or on a
# free one.
sub redis_start {
    return $redis_port if $redis_pid;

    $redis_port //= free_port();
    $redis_dir //= tempdir('gw-redis-XXXXXX', TMPDIR => 1, CLEANUP => 1);

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$redis_dir/stdout.log";
        open STDERR, '>&', \*STDOUT;
        exec 'redis-server', '--port', $redis_port, '--bind', '127.0.0.1',
             '--save', '', '--appendonly', 'no', '--daemonize', 'no',
             '--dir', $redis_dir, '--protected-mode', 'yes'
            or exit 127;
    }

    $redis_pid = $pid;

    my $deadline = time + 10;
    while (time < $deadline) {
        my $pong = eval { redis_cmd('PING') };
        if (defined $pong && $pong eq 'PONG') {
            $ENV{TEST_NGINX_REDIS_PORT} = $redis_port;
            return $redis_port;
        }
        if (waitpid($pid, WNOHANG) == $pid) {
            $redis_pid = undef;
            die "redis-server exited; see $redis_dir/stdout.log\n";
        }
        sleep 0.05;
    }

    die "redis-server did not answer on 127.0.0.1:$redis_port\n";
}


sub redis_stop {
    return unless $redis_pid;

    kill 'TERM', $redis_pid;
    my $deadline = time + 5;
    while (time < $deadline) {
        last if waitpid($redis_pid, WNOHANG) == $redis_pid;
        sleep 0.02;
    }
    if (kill 0, $redis_pid) {
        kill 'KILL', $redis_pid;
        waitpid($redis_pid, 0);
    }
    $redis_pid = undef;
}


sub redis_cmd {
    my (@args) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $redis_port, Proto => 'tcp',
                                  Timeout => 2)
        or die "redis: connect: $!\n";

    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print $s $req;

    my $reply = redis_read($s);
    close $s;
    return $reply;
}


sub redis_read {
    my ($s) = @_;

    my $line = <$s>;
    die "redis: connection closed\n" unless defined $line;
    $line =~ s/\r\n\z//;

    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+';
    die "redis: $rest\n" if $type eq '-';
    return 0 + $rest if $type eq ':';

    if ($type eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        while (length $buf < $rest + 2) {
            read($s, $buf, $rest + 2 - length $buf, length $buf) or last;
        }
        return substr($buf, 0, $rest);
    }

    if ($type eq '*') {
        return undef if $rest < 0;
        return [ map { redis_read($s) } 1 .. $rest ];
    }

    die "redis: bad reply \"$line\"\n";
}


END {
    redis_stop();
}


sub build {
    my ($method, $path, $headers, $body) = @_;

    $headers //= {};
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
              . "Connection: close\r\n";
    for my $k (sort keys %$headers) {
        $req .= "$k: $headers->{$k}\r\n";
    }
    if (defined $body) {
        $req .= "Content-Length: " . length($body) . "\r\n";
    }
    return $req . "\r\n" . ($body // '');
}


sub parse {
    my ($raw) = @_;
    my %r = (status => 0, headers => {}, body => '', raw => $raw);

    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    return \%r unless defined $head;

    my @lines = split /\r\n/, $head;
    my $status = shift @lines // '';
    ($r{status}) = $status =~ m{^HTTP/\d\.\d (\d{3})};
    $r{status} //= 0;

    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        $r{headers}{$k} = exists $r{headers}{$k} ? "$r{headers}{$k}, $v" : $v;
    }

    $body //= '';
    if (($r{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
        my $out = '';
        while ($body =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $len = hex $1;
            last if $len == 0;
            $out .= substr($body, 0, $len, '');
            $body =~ s/\A\r\n//;
        }
        $body = $out;
    }
    $r{body} = $body;

    return \%r;
}


# One request to the test nginx; returns { status, headers, body }.
sub http_request {
    my ($method, $path, $headers, $body, %opt) = @_;

    my $port = $opt{port} // $ENV{TEST_NGINX_SERVER_PORT};
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "connect 127.0.0.1:$port: $!\n";

    print $s build($method, $path, $headers, $body);

    my $raw = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + ($opt{timeout} // 10);
    while (time < $deadline) {
        next unless $sel->can_read($deadline - time);
        my $n = sysread($s, $raw, 65536, length $raw);
        last unless $n;
    }
    close $s;

    return parse($raw);
}


# n requests sent at once on n connections; returns the responses in the
# order of the connections.
sub parallel_requests {
    my ($n, $method, $path, $headers, %opt) = @_;

    my $port = $opt{port} // $ENV{TEST_NGINX_SERVER_PORT};
    my $req = build($method, $path, $headers, $opt{body});
    my (@socks, %index, %buf);

    for my $i (0 .. $n - 1) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => 5)
            or die "connect 127.0.0.1:$port: $!\n";
        push @socks, $s;
        $index{"$s"} = $i;
        $buf{"$s"} = '';
    }

    # the requests go out back to back, after every connection is open
    syswrite($_, $req) for @socks;

    my $sel = IO::Select->new(@socks);
    my $deadline = time + ($opt{timeout} // 20);

    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read($deadline - time)) {
            my $n = sysread($s, $buf{"$s"}, 65536, length $buf{"$s"});
            if (!$n) {
                $sel->remove($s);
                close $s;
            }
        }
    }

    return [ map { parse($buf{"$_"}) } @socks ];
}


1;
