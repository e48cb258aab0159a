package GwRate;

# A second nginx for ratelimit's cluster tests, started from perl with its
# own configuration, prefix and port, next to the runner's nginx:
#
#   my $port = second_nginx_start($http_block_text);
#   http_request('GET', '/t', {}, undef, port => $port);
#   second_nginx_stop();            # also done when the test file ends

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use GwTest qw(free_port wait_port);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(second_nginx_start second_nginx_stop second_nginx_reload
                 redis_keys redis_grants redis_instances wait_for);

my $dir;
my $pid_file;


sub second_nginx_start {
    my ($http) = @_;

    second_nginx_stop();

    my $port = free_port();
    $dir = tempdir(CLEANUP => 1);
    mkdir "$dir/logs";
    mkdir "$dir/conf";
    $pid_file = "$dir/logs/nginx.pid";

    my $load = join '', map { "load_module $_;\n" }
                        split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
    my $user = $> == 0 ? "user root root;\n" : '';

    $http =~ s/\$SECOND_PORT\b/$port/g;

    open my $fh, '>', "$dir/conf/nginx.conf" or die "$dir: $!";
    print $fh <<"CONF";
$load${user}worker_processes 1;
daemon on;
master_process on;
error_log $dir/logs/error.log info;
pid $pid_file;

events {
    worker_connections 1024;
}

http {
    access_log off;
    default_type text/plain;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;

$http
}
CONF
    close $fh;

    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    system($bin, '-p', "$dir/", '-c', "$dir/conf/nginx.conf") == 0
        or die "second nginx did not start:\n" . second_nginx_log();

    wait_port($port, 10) or die "second nginx is not listening on $port\n";

    return $port;
}


sub second_nginx_log {
    return '' unless $dir && open my $fh, '<', "$dir/logs/error.log";
    local $/;
    return <$fh>;
}


sub second_nginx_stop {
    return unless $pid_file && -f $pid_file;

    open my $fh, '<', $pid_file or return;
    my $pid = <$fh>;
    close $fh;
    chomp $pid;

    if ($pid && kill 'QUIT', $pid) {
        my $deadline = time + 5;
        sleep 0.05 while kill(0, $pid) && time < $deadline;
        kill 'KILL', $pid if kill 0, $pid;
    }

    unlink $pid_file;
}


# sends HUP to the second nginx's master
sub second_nginx_reload {
    return unless $pid_file && open my $fh, '<', $pid_file;
    my $pid = <$fh>;
    close $fh;
    chomp $pid;
    kill 'HUP', $pid if $pid;
}


# the ratelimit counters in Redis, name => value (not the quotas' grants,
# hashes named <counter>:g, nor the instances' set, <prefix>nodes)
sub redis_keys {
    my ($pattern) = @_;
    my $keys = GwTest::redis_cmd('KEYS', $pattern // 'gw_rate:*');
    my %kv;
    for my $k (ref $keys ? @$keys : ()) {
        next if $k =~ /:g$|nodes$/;
        $kv{$k} = GwTest::redis_cmd('GET', $k);
    }
    return \%kv;
}


# the grants of a quota's counter, instance => [grant, ms]
sub redis_grants {
    my ($counter) = @_;
    my $h = GwTest::redis_cmd('HGETALL', "$counter:g");
    my %g = ref $h ? @$h : ();
    delete $g{'.born'};
    return { map { $_ => [split /:/, $g{$_}] } keys %g };
}


# the instances counted in Redis
sub redis_instances {
    my ($prefix) = @_;
    my $m = GwTest::redis_cmd('ZRANGE', ($prefix // 'gw_rate:') . 'nodes',
                              0, -1);
    return ref $m ? @$m : ();
}


# polls cond every 50 ms until it is true or secs pass; returns its value
sub wait_for {
    my ($secs, $cond) = @_;
    my $deadline = time + $secs;
    my $v;
    while (1) {
        $v = $cond->();
        return $v if $v || time >= $deadline;
        sleep 0.05;
    }
}


END { second_nginx_stop() }


1;
