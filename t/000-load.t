# Each module loads on its own, all five load together, and the order of
# the load_module lines does not matter (nginx -t with the real binary).

use strict;
use warnings;

use Cwd qw(getcwd);
use File::Path qw(make_path);
use Test::More;

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $dir = $ENV{TEST_NGINX_GW_MODULES_DIR} || getcwd() . '/build/modules';
my $root = getcwd() . '/t/servroot/000-load';

my @all = map { "ngx_http_gw_${_}_module.so" }
          qw(auth ratelimit compose cache metrics);

make_path("$root/conf", "$root/logs");

sub nginx_t {
    my (@modules) = @_;

    my $conf = join('', map { "load_module $dir/$_;\n" } @modules)
               . "error_log $root/logs/error.log;\n"
               . "pid $root/logs/nginx.pid;\n"
               . "events {}\n"
               . "http {\n"
               . "    server {\n"
               . "        listen 127.0.0.1:1;\n"
               . "        location / { return 204; }\n"
               . "    }\n"
               . "}\n";

    open my $fh, '>', "$root/conf/nginx.conf" or die $!;
    print $fh $conf;
    close $fh;

    my $out = `'$nginx' -p '$root/' -c '$root/conf/nginx.conf' -t 2>&1`;
    return ($? >> 8, $out);
}

for my $so (@all) {
    ok(-f "$dir/$so", "$so was built");
}

for my $so (@all) {
    my ($rc, $out) = nginx_t($so);
    is($rc, 0, "$so loads alone") or diag($out);
    like($out, qr/test is successful/, "$so: nginx -t is successful");
}

my @orders = (
    [ @all ],
    [ reverse @all ],
    [ @all[2, 4, 0, 3, 1] ],
);

for my $order (@orders) {
    my $names = join ' ', map { /gw_(\w+)_module/ } @$order;
    my ($rc, $out) = nginx_t(@$order);
    is($rc, 0, "all five load in the order $names") or diag($out);
    unlike($out, qr/\[(?:warn|error|alert|emerg)\]/, "no warnings ($names)");
}

my ($rc, $out) = nginx_t($all[0], $all[0]);
isnt($rc, 0, 'loading one module twice is refused');
like($out, qr/module "ngx_http_gw_auth_module" is already loaded/,
     'with nginx\'s own message');

done_testing();
