package Test::Nginx::Util;

# The engine of ngx_gw's bundled Test::Nginx runner: writes nginx.conf for a
# block, starts, reloads and stops nginx (optionally under valgrind), sends
# the requests and checks the sections.  Compatible with the CPAN
# Test::Nginx::Socket for the sections listed in %Sections; any other
# section is an error, because an assertion that is silently skipped is a
# test that cannot fail.

use strict;
use warnings;

use Cwd qw(abs_path getcwd);
use Errno qw(EINTR EAGAIN EINPROGRESS);
use File::Basename qw(basename dirname);
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Socket qw(SOL_SOCKET SO_REUSEADDR);
use Time::HiRes qw(sleep time);
use Test::More ();

my %Sections = map { $_ => 1 } qw(
    main_config http_config config request more_headers raw_request
    pipelined_requests error_code response_body response_body_like
    response_body_unlike response_headers response_headers_like error_log
    no_error_log must_die timeout wait ONLY SKIP user_files init log_level
);

our $RepeatEach = 1;
our $MasterProcessEnabled = 0;
our $Workers = 1;
our $WorkerConnections = 1024;
our $LogLevel = 'debug';
our $NoRootLocation = 0;
our @BlockPreprocessors;
our @EnvToNginx;

our $ServerPort = $ENV{TEST_NGINX_PORT} || 1984;
our $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $UseValgrind = $ENV{TEST_NGINX_USE_VALGRIND} || 0;
our $UseHup = $ENV{TEST_NGINX_USE_HUP} || 0;
our $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 3;

my $test_file = basename($0);
(my $test_name = $test_file) =~ s/\.t$//;

# runs on other ports (in parallel) get servroots of their own
our $ServRoot = $ENV{TEST_NGINX_SERVROOT}
                || (getcwd() . "/t/servroot/"
                    . ($ServerPort == 1984 ? '' : "$ServerPort/") . $test_name);
our $HtmlDir = "$ServRoot/html";
our $ConfDir = "$ServRoot/conf";
our $LogDir = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $PidFile = "$LogDir/nginx.pid";

our $ValgrindSuppress = do {
    my $dir = dirname(abs_path(__FILE__));
    abs_path("$dir/../../../valgrind.suppress") // '';
};

my $nginx_running = 0;      # started by us and not stopped yet
my $valgrind_pid;           # the nginx run under valgrind (daemon off)

$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_PORT} = $ServerPort;
$ENV{TEST_NGINX_SERVROOT} = $ServRoot;
$ENV{TEST_NGINX_HTML_DIR} = $HtmlDir;
$ENV{TEST_NGINX_CONF_DIR} = $ConfDir;
$ENV{TEST_NGINX_LOG_DIR} = $LogDir;

pick_random_ports();


# settings a .t file calls before run_tests()

sub repeat_each { $RepeatEach = shift if @_; return $RepeatEach }
sub no_shuffle { return }
sub master_on { $MasterProcessEnabled = 1 }
sub master_off { $MasterProcessEnabled = 0 }
sub workers { $Workers = shift if @_; return $Workers }
sub worker_connections { $WorkerConnections = shift if @_ }
sub log_level { $LogLevel = shift if @_; return $LogLevel }
sub no_root_location { $NoRootLocation = 1 }
sub add_block_preprocessor { push @BlockPreprocessors, @_ }
sub env_to_nginx { push @EnvToNginx, @_ }
sub no_long_string { return }
sub server_port { return $ServerPort }
sub server_root { return $ServRoot }
sub html_dir { return $HtmlDir }


sub pick_random_ports {
    my %taken = ($ServerPort => 1);

    for my $n (1 .. 5) {
        my $var = "TEST_NGINX_RAND_PORT_$n";
        next if $ENV{$var};

        for (1 .. 50) {
            my $port = 20000 + int(rand(20000));
            next if $taken{$port};
            my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                          LocalPort => $port,
                                          Proto => 'tcp', Listen => 1,
                                          ReuseAddr => 1);
            next unless $s;
            close $s;
            $taken{$port} = 1;
            $ENV{$var} = $port;
            last;
        }
    }
}


sub run_tests {
    my @blocks = Test::Base::blocks();

    for my $block (@blocks) {
        check_sections($block);
    }

    my @only = grep { defined $_->{ONLY} } @blocks;
    if (@only) {
        Test::More::diag("$test_file: running the ONLY block");
        @blocks = ($only[0]);
    }

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;

        if (defined $block->{SKIP}) {
            Test::More::note("$test_file: skipped TEST " . $block->name);
            next;
        }

        for my $rep (1 .. $RepeatEach) {
            run_test($block, $rep);
        }
    }

    stop_nginx();
}


sub check_sections {
    my ($block) = @_;

    for my $name (@{ $block->{_section_order}[0] || [] }) {
        next if $Sections{$name};
        die "$test_file: TEST " . $block->name . ": the bundled "
            . "Test::Nginx runner does not know section \"$name\"\n";
    }
}


# $TEST_NGINX_* in a section's text becomes the environment's value
sub expand_env {
    my ($v, $where) = @_;

    return $v unless defined $v;

    if (ref $v eq 'ARRAY') {
        return [ map { expand_env($_, $where) } @$v ];
    }

    return $v if ref $v;

    $v =~ s{\$(TEST_NGINX_[A-Za-z0-9_]+)}{
        defined $ENV{$1} ? $ENV{$1}
                         : die "$where: no environment $1 defined\n"
    }ge;

    return $v;
}


sub section {
    my ($block, $name) = @_;
    my $v = $block->{$name};

    return undef unless defined $v;

    # Test::Base keeps a section's values as a list
    $v = $v->[0] if ref $v eq 'ARRAY' && @$v == 1;

    return expand_env($v, "TEST " . $block->name . " --- $name");
}


sub run_test {
    my ($block, $rep) = @_;

    $rep ||= 1;
    my $name = $block->name;
    $name .= " (repeat $rep)" if $RepeatEach > 1;

    my $must_die = defined $block->{must_die};

    write_files($block);
    write_config($block);

    my $log_offset = -s $ErrLogFile || 0;

    my $started = start_or_reload($block, $name, $must_die);

    if ($must_die) {
        Test::More::ok(!$started, "$name - nginx refused the configuration");
        check_error_log($block, $name, 0, 1);
        return;
    }

    unless ($started) {
        Test::More::fail("$name - nginx started");
        return;
    }

    if (defined(my $init = section($block, 'init'))) {
        # in package main, where the test file's helpers were imported
        eval "package main;\n#line 1 \"init\"\n$init";
        if ($@) {
            Test::More::fail("$name - init: $@");
        }
    }

    $log_offset = -s $ErrLogFile || 0 if $UseHup;

    run_requests($block, $name);

    if (defined(my $wait = section($block, 'wait'))) {
        sleep($wait);
    }

    check_error_log($block, $name, $log_offset, 0);

    if ($UseValgrind) {
        stop_nginx();
        check_valgrind($name);
    }
}


sub write_files {
    my ($block) = @_;

    make_path($ConfDir, $HtmlDir, $LogDir, "$ServRoot/tmp");

    if (!$UseHup || !$nginx_running) {
        unlink $ErrLogFile;
    }

    my $files = section($block, 'user_files');
    return unless defined $files;

    if (ref $files eq 'ARRAY') {
        for my $f (@$files) {
            write_user_file($f->[0], $f->[1]);
        }
        return;
    }

    my @parts = split /^>>> /m, $files;
    shift @parts;

    for my $part (@parts) {
        my ($file, $body) = $part =~ /\A(\S+)[^\n]*\n(.*)\z/s;
        ($file, $body) = ($part =~ /\A(\S+)/, '') unless defined $file;
        write_user_file($file, $body);
    }
}


sub write_user_file {
    my ($file, $body) = @_;
    my $path = "$HtmlDir/$file";

    make_path(dirname($path));
    open my $fh, '>', $path or die "$path: $!";
    print $fh $body;
    close $fh;
}


sub write_config {
    my ($block) = @_;

    my $main = section($block, 'main_config') // '';
    my $http = section($block, 'http_config') // '';
    my $config = section($block, 'config') // '';
    my $log_level = section($block, 'log_level') // $LogLevel;
    chomp $log_level;

    my $load = '';
    for my $so (split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '') {
        my $base = basename($so);
        next if $main =~ /^\s*load_module\s+\S*\Q$base\E\s*;/m;
        $load .= "load_module $so;\n";
    }

    my $master = ($MasterProcessEnabled || $UseHup) && !$UseValgrind;
    my $daemon = $UseValgrind ? 'off' : 'on';
    my $user = $> == 0 ? "user root root;\n" : '';
    my $env = join '', map { "env $_;\n" } @EnvToNginx;

    my $root_location = '';
    if (!$NoRootLocation && $config !~ m{location\s+/\s*\{}) {
        $root_location = "        location / {\n"
                         . "            root $HtmlDir;\n"
                         . "            index index.html index.htm;\n"
                         . "        }\n";
    }

    my $tmp = "$ServRoot/tmp";

    my $conf = <<"CONF";
# written by ngx_gw's bundled Test::Nginx runner for $test_file
$load${user}worker_processes $Workers;
daemon $daemon;
master_process @{[ $master ? 'on' : 'off' ]};
error_log $ErrLogFile $log_level;
pid $PidFile;
$env
$main

http {
    access_log $LogDir/access.log;
    default_type text/plain;
    keepalive_timeout 68;
    client_body_temp_path $tmp/client_body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;

$http

    server {
        listen 127.0.0.1:$ServerPort;
        server_name localhost;
        client_max_body_size 30M;

$root_location
$config
    }
}

events {
    accept_mutex off;
    worker_connections $WorkerConnections;
}
CONF

    open my $fh, '>', "$ConfDir/nginx.conf" or die "$ConfDir/nginx.conf: $!";
    print $fh $conf;
    close $fh;
}


sub nginx_pid {
    open my $fh, '<', $PidFile or return undef;
    my $pid = <$fh>;
    close $fh;
    return undef unless defined $pid && $pid =~ /(\d+)/;
    return $1;
}


# a daemon that exited may stay a zombie until init reaps it
sub alive {
    my ($pid) = @_;

    return 0 unless $pid && kill(0, $pid);

    if (open my $fh, '<', "/proc/$pid/stat") {
        my $stat = <$fh> // '';
        close $fh;
        return 0 if $stat =~ /^\d+ \(.*\) [ZX] /;
    }

    return 1;
}


sub start_or_reload {
    my ($block, $name, $must_die) = @_;

    if ($UseHup && !$UseValgrind && !$must_die && $nginx_running) {
        my $pid = nginx_pid();
        if (alive($pid)) {
            return reload_nginx($pid);
        }
    }

    stop_nginx();
    return start_nginx($must_die);
}


sub start_nginx {
    my ($must_die) = @_;

    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', "$ConfDir/nginx.conf");
    my $stderr = "$LogDir/stderr.log";

    if ($UseValgrind) {
        my @vg = ('valgrind', '-q', '--tool=memcheck', '--leak-check=full',
                  '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite',
                  '--num-callers=30', "--log-file=$LogDir/valgrind.log");
        push @vg, "--suppressions=$ValgrindSuppress" if $ValgrindSuppress;
        unlink "$LogDir/valgrind.log";

        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            open STDOUT, '>', '/dev/null';
            open STDERR, '>', $stderr;
            exec @vg, @cmd or exit 127;
        }

        $valgrind_pid = $pid;
        my $deadline = time + 60;
        while (time < $deadline) {
            if (waitpid($pid, WNOHANG) == $pid) {
                $valgrind_pid = undef;
                append_stderr($stderr);
                return 0;
            }
            if (port_open($ServerPort)) {
                $nginx_running = 1;
                return 1;
            }
            sleep 0.1;
        }
        return 0;
    }

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $stderr;
        exec @cmd or exit 127;
    }
    # nginx daemonizes at once; one that stays in the foreground is not
    # the configuration this runner wrote
    my $deadline = time + 20;
    while (waitpid($pid, WNOHANG) != $pid) {
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            append_stderr($stderr);
            return 0;
        }
        sleep 0.01;
    }
    my $status = $?;

    append_stderr($stderr);

    if ($status != 0) {
        return 0;
    }

    # the daemon writes its pid file before it accepts
    $deadline = time + 10;
    while (time < $deadline) {
        my $p = nginx_pid();
        if (alive($p) && port_open($ServerPort)) {
            $nginx_running = 1;
            return 1;
        }
        sleep 0.02;
    }

    return 0;
}


# nginx's own messages about the configuration go to stderr before the
# error_log is open; they join the log so that error_log sections see them
sub append_stderr {
    my ($file) = @_;

    open my $in, '<', $file or return;
    local $/;
    my $text = <$in>;
    close $in;

    return unless length($text // '');

    open my $out, '>>', $ErrLogFile or return;
    print $out $text;
    close $out;
}


sub reload_nginx {
    my ($pid) = @_;

    my $offset = -s $ErrLogFile || 0;

    # nginx -t first, so that a broken configuration fails the block
    # instead of leaving the old one running
    my $out = `$NginxBinary -p '$ServRoot/' -c '$ConfDir/nginx.conf' -t 2>&1`;
    if ($? != 0) {
        open my $fh, '>>', $ErrLogFile;
        print $fh $out if $fh;
        return 0;
    }

    kill 'HUP', $pid;

    # wait until the new workers run and the old ones are leaving
    my $deadline = time + 10;
    my $want = $MasterProcessEnabled || $UseHup
               ? qr/start worker process/ : qr/reconfiguring/;
    while (time < $deadline) {
        my $log = read_log_from($offset);
        if ($log =~ $want) {
            last if $log =~ /gracefully shutting down|exiting/
                    || !$MasterProcessEnabled;
        }
        sleep 0.05;
    }

    sleep 0.05;
    return port_open($ServerPort);
}


sub stop_nginx {
    if ($UseValgrind && $valgrind_pid) {
        kill 'QUIT', $valgrind_pid;
        my $deadline = time + 60;
        while (time < $deadline) {
            last if waitpid($valgrind_pid, WNOHANG) == $valgrind_pid;
            sleep 0.1;
        }
        if (alive($valgrind_pid)) {
            kill 'KILL', $valgrind_pid;
            waitpid($valgrind_pid, 0);
        }
        $valgrind_pid = undef;
        $nginx_running = 0;
        return;
    }

    my $pid = nginx_pid();

    if (alive($pid)) {
        kill 'QUIT', $pid;
        my $deadline = time + 5;
        while (alive($pid) && time < $deadline) {
            sleep 0.02;
        }
        if (alive($pid)) {
            kill 'TERM', $pid;
            $deadline = time + 3;
            sleep 0.02 while alive($pid) && time < $deadline;
        }
        if (alive($pid)) {
            kill 'KILL', $pid;
        }
    }

    # a port still in use would make the next block talk to a stranger
    my $deadline = time + 3;
    sleep 0.02 while port_open($ServerPort) && time < $deadline;

    $nginx_running = 0;
}


sub port_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}


sub read_log_from {
    my ($offset) = @_;

    open my $fh, '<', $ErrLogFile or return '';
    seek $fh, $offset, 0;
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text // '';
}


# requests

sub run_requests {
    my ($block, $name) = @_;

    my $timeout = section($block, 'timeout') // $Timeout;
    chomp $timeout;

    my @reqs;
    my $pipelined = 0;

    if (defined(my $raw = section($block, 'raw_request'))) {
        @reqs = ref $raw eq 'ARRAY' ? map { { raw => $_ } } @$raw
                                    : ({ raw => $raw });

    } elsif (defined(my $p = section($block, 'pipelined_requests'))) {
        die "$name: pipelined_requests needs an eval array\n"
            unless ref $p eq 'ARRAY';
        @reqs = ({ pipelined => $p });
        $pipelined = 1;

    } elsif (defined(my $r = section($block, 'request'))) {
        @reqs = ref $r eq 'ARRAY' ? map { { request => $_ } } @$r
                                  : ({ request => $r });

    } else {
        return;
    }

    my $more = section($block, 'more_headers');

    for my $i (0 .. $#reqs) {
        my $req = $reqs[$i];
        my $tag = @reqs > 1 ? " (req $i)" : '';
        my $hdrs = ref $more eq 'ARRAY' ? $more->[$i] : $more;

        my ($data, $count);
        if ($req->{raw}) {
            ($data, $count) = ($req->{raw}, 1);
        } elsif ($req->{pipelined}) {
            my @p = @{ $req->{pipelined} };
            $data = join '', map {
                build_request($p[$_], $hdrs, $_ < $#p ? 'keep-alive' : 'close')
            } 0 .. $#p;
            $count = @p;
        } else {
            ($data, $count) = (build_request($req->{request}, $hdrs, 'close'),
                               1);
        }

        my ($raw, $err) = send_and_receive($data, $timeout);

        if ($err) {
            Test::More::fail("$name - request$tag: $err");
            next;
        }

        my @resps = parse_responses($raw, $count,
                                    $req->{request} // $req->{raw} // '');

        if ($pipelined) {
            check_pipelined($block, $name, \@resps, $count);
            next;
        }

        check_response($block, $name, $resps[0], $i, scalar(@reqs), $tag);
    }
}


sub build_request {
    my ($text, $more, $connection) = @_;

    $text =~ s/\A\s+//;
    my ($line, $body) = split /\n/, $text, 2;
    $line =~ s/\s+\z//;

    my ($method, $uri, $proto) = split ' ', $line, 3;
    die "bad request line \"$line\"\n" unless defined $uri;
    $proto //= 'HTTP/1.1';

    my @headers;
    my %have;
    for my $h (split /\n/, $more // '') {
        next unless $h =~ /^\s*([^:\s]+)\s*:\s?(.*?)\s*$/;
        push @headers, "$1: $2";
        $have{lc $1} = 1;
    }

    unshift @headers, "Host: localhost" unless $have{host};
    push @headers, "Connection: $connection" unless $have{connection};

    if (defined $body) {
        $body =~ s/\n\z//;
    }

    if (defined $body && length $body) {
        push @headers, "Content-Length: " . length($body)
            unless $have{'content-length'} || $have{'transfer-encoding'};
    } else {
        $body = '';
    }

    return "$method $uri $proto\r\n" . join('', map { "$_\r\n" } @headers)
           . "\r\n" . $body;
}


sub send_and_receive {
    my ($data, $timeout) = @_;

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ServerPort,
                                     Proto => 'tcp', Timeout => $timeout)
        or return (undef, "cannot connect to 127.0.0.1:$ServerPort: $!");

    $sock->autoflush(1);
    binmode $sock;

    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($sock, $data, length($data) - $off, $off);
        if (!defined $n) {
            next if $! == EINTR;
            last;    # the server may answer and close early
        }
        $off += $n;
    }

    my $sel = IO::Select->new($sock);
    my $buf = '';
    my $deadline = time + $timeout;

    while (1) {
        my $left = $deadline - time;
        if ($left <= 0) {
            close $sock;
            return ($buf, length $buf
                          ? undef
                          : "timeout after ${timeout}s with no response");
        }
        next unless $sel->can_read($left);
        my $n = sysread($sock, $buf, 65536, length $buf);
        if (!defined $n) {
            next if $! == EINTR;
            last;
        }
        last if $n == 0;
    }

    close $sock;
    return ($buf, undef);
}


sub parse_responses {
    my ($raw, $count, $req) = @_;
    my @out;

    my $head_only = $req =~ /^\s*HEAD\b/;

    for (1 .. $count) {
        my %r = (status => undef, headers => [], body => '');

        if ($raw !~ s/\A(HTTP\/\d\.\d)\s+(\d{3})[^\r\n]*\r\n//) {
            $r{body} = $raw;
            $r{bad} = 1;
            push @out, \%r;
            $raw = '';
            next;
        }

        $r{status} = $2;

        while ($raw =~ s/\A([^\r\n]+)\r\n//) {
            my $h = $1;
            if ($h =~ /^([^:]+):\s*(.*)$/) {
                push @{ $r{headers} }, [lc $1, $2];
            }
        }
        $raw =~ s/\A\r\n//;

        my %h = header_map(\%r);
        my $no_body = $head_only || $r{status} == 304 || $r{status} == 204
                      || $r{status} =~ /^1/;

        if ($no_body) {
            $r{body} = '';

        } elsif (($h{'transfer-encoding'} // '') =~ /chunked/i) {
            my $body = '';
            while ($raw =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
                my $len = hex $1;
                if ($len == 0) {
                    $raw =~ s/\A(?:[^\r\n]+\r\n)*\r\n//;
                    last;
                }
                $body .= substr($raw, 0, $len, '');
                $raw =~ s/\A\r\n//;
            }
            $r{body} = $body;

        } elsif (defined $h{'content-length'}) {
            $r{body} = substr($raw, 0, $h{'content-length'}, '');

        } else {
            $r{body} = $raw;
            $raw = '';
        }

        push @out, \%r;
    }

    return @out;
}


sub header_map {
    my ($r) = @_;
    my %h;
    for my $p (@{ $r->{headers} }) {
        $h{ $p->[0] } = defined $h{ $p->[0] } ? "$h{$p->[0]}, $p->[1]"
                                              : $p->[1];
    }
    return %h;
}


sub pick {
    my ($v, $i, $n) = @_;
    return $v unless ref $v eq 'ARRAY';
    return $v->[$i];
}


sub check_response {
    my ($block, $name, $r, $i, $n, $tag) = @_;

    my $code = pick(section($block, 'error_code'), $i, $n);
    $code = 200 if !defined $code && !defined $block->{raw_request};
    if (defined $code) {
        chomp $code;
        Test::More::is($r->{status}, $code, "$name - status code ok$tag");
    }

    my %h = header_map($r);

    my $rh = pick(section($block, 'response_headers'), $i, $n);
    if (defined $rh) {
        for my $line (split /\n/, $rh) {
            next unless $line =~ /\S/;
            if ($line =~ /^\s*!\s*(\S+)\s*$/) {
                my $k = lc $1;
                Test::More::ok(!defined $h{$k}, "$name - header $1 absent$tag")
                    or Test::More::diag("got: $k: $h{$k}");
                next;
            }
            my ($k, $v) = $line =~ /^\s*([^:]+?)\s*:\s*(.*?)\s*$/
                or die "$name: bad response_headers line \"$line\"\n";
            if ($v eq '') {
                Test::More::ok(!defined $h{lc $k} || $h{lc $k} eq '',
                               "$name - header $k empty or absent$tag");
                next;
            }
            Test::More::is($h{lc $k}, $v, "$name - header $k ok$tag");
        }
    }

    my $rhl = pick(section($block, 'response_headers_like'), $i, $n);
    if (defined $rhl) {
        for my $line (split /\n/, $rhl) {
            next unless $line =~ /\S/;
            my ($k, $v) = $line =~ /^\s*([^:]+?)\s*:\s*(.*?)\s*$/
                or die "$name: bad response_headers_like line \"$line\"\n";
            Test::More::like($h{lc $k} // '', qr/$v/,
                             "$name - header $k like$tag");
        }
    }

    my $body = pick(section($block, 'response_body'), $i, $n);
    if (defined $body) {
        Test::More::is($r->{body}, $body, "$name - response_body ok$tag");
    }

    my $like = pick(section($block, 'response_body_like'), $i, $n);
    if (defined $like) {
        my $re = ref $like eq 'Regexp' ? $like : qr/$like/s;
        Test::More::like($r->{body}, $re, "$name - response_body_like$tag");
    }

    my $unlike = pick(section($block, 'response_body_unlike'), $i, $n);
    if (defined $unlike) {
        my $re = ref $unlike eq 'Regexp' ? $unlike : qr/$unlike/s;
        Test::More::unlike($r->{body}, $re,
                           "$name - response_body_unlike$tag");
    }
}


sub check_pipelined {
    my ($block, $name, $resps, $count) = @_;

    Test::More::is(scalar(grep { defined $_->{status} } @$resps), $count,
                   "$name - $count pipelined responses");

    my $codes = section($block, 'error_code');
    if (defined $codes) {
        my @want = ref $codes eq 'ARRAY' ? @$codes : (($codes) x $count);
        chomp @want;
        Test::More::is_deeply([ map { $_->{status} } @$resps ], \@want,
                              "$name - pipelined status codes");
    }

    my $body = section($block, 'response_body');
    if (defined $body) {
        if (ref $body eq 'ARRAY') {
            Test::More::is_deeply([ map { $_->{body} } @$resps ], $body,
                                  "$name - pipelined bodies");
        } else {
            Test::More::is(join('', map { $_->{body} } @$resps), $body,
                           "$name - pipelined response_body");
        }
    }

    my $like = section($block, 'response_body_like');
    if (defined $like) {
        Test::More::like(join('', map { $_->{body} } @$resps), qr/$like/s,
                         "$name - pipelined response_body_like");
    }
}


sub patterns {
    my ($v) = @_;
    return () unless defined $v;
    return @$v if ref $v eq 'ARRAY';
    return ($v) if ref $v eq 'Regexp';
    return grep { /\S/ } split /\n/, $v;
}


sub check_error_log {
    my ($block, $name, $offset, $must_die) = @_;

    my $want = section($block, 'error_log');
    my $not = section($block, 'no_error_log');

    return unless defined $want || defined $not;

    # a log line may be written just after the response went out
    sleep 0.05 unless $must_die;

    my $log = read_log_from($offset);

    for my $p (patterns($want)) {
        if (ref $p eq 'Regexp') {
            Test::More::like($log, $p, "$name - error_log matches $p");
        } else {
            Test::More::ok(index($log, $p) >= 0,
                           "$name - error_log has \"$p\"")
                or Test::More::diag(tail_of($log));
        }
    }

    for my $p (patterns($not)) {
        if (ref $p eq 'Regexp') {
            Test::More::unlike($log, $p, "$name - no error_log $p");
        } else {
            my $at = index($log, $p);
            Test::More::ok($at < 0, "$name - no error_log \"$p\"")
                or Test::More::diag(line_at($log, $at));
        }
    }
}


sub line_at {
    my ($log, $at) = @_;
    my $start = rindex($log, "\n", $at) + 1;
    my $end = index($log, "\n", $at);
    $end = length $log if $end < 0;
    return "found: " . substr($log, $start, $end - $start);
}


sub tail_of {
    my ($log) = @_;
    my @lines = grep { !/\[debug\]/ } split /\n/, $log;
    @lines = @lines[-10 .. -1] if @lines > 10;
    return "log (no debug lines, last 10):\n" . join("\n", @lines);
}


sub check_valgrind {
    my ($name) = @_;

    my $file = "$LogDir/valgrind.log";
    open my $fh, '<', $file or do {
        Test::More::fail("$name - valgrind log $file");
        return;
    };
    local $/;
    my $text = <$fh> // '';
    close $fh;

    my @bad;
    push @bad, 'invalid read' if $text =~ /Invalid read/;
    push @bad, 'invalid write' if $text =~ /Invalid write/;
    push @bad, 'invalid free' if $text =~ /Invalid free/;
    push @bad, 'uninitialised value'
        if $text =~ /uninitialised value|Uninitialised value/;
    push @bad, 'definite leak' if $text =~ /definitely lost in/;

    Test::More::ok(!@bad, "$name - valgrind clean")
        or Test::More::diag("valgrind: @bad\n" . substr($text, 0, 4000));
}


END {
    stop_nginx() if $nginx_running || $valgrind_pid;
}

1;
