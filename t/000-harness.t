# Proves the bundled Test::Nginx runner itself: a wrong expectation fails,
# an unknown section stops the file, and valgrind mode catches a real
# memory error.

use strict;
use warnings;

use Cwd qw(getcwd);
use File::Path qw(make_path);
use Test::More;

my $top = getcwd();
my $perl = $^X;

sub run_child {
    my ($file, %env) = @_;

    local %ENV = (%ENV, %env);
    my $out = `'$perl' -I'$top/t/lib' -I'$top/t/helpers' '$file' 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = run_child('t/harness/wrong-expectation.tt');
isnt($rc, 0, 'a block whose expectation is wrong fails');
like($out, qr/not ok \d+ - TEST 1: the body is not what the block says - response_body ok/,
     'the failure names the block and the section');
like($out, qr/got: 'actual\n#? *'/, 'the failure shows what nginx sent');

($rc, $out) = run_child('t/harness/unknown-section.tt');
isnt($rc, 0, 'an unknown section stops the file');
like($out, qr/does not know section "response_bdy"/, 'and names the section');
unlike($out, qr/^ok /m, 'no block ran');

SKIP: {
    my $tree = "$top/build/nginx-debian";
    skip 'valgrind mode: needs valgrind and the Debian build tree', 3
        unless -x '/usr/bin/valgrind' && -f "$tree/objs/ngx_auto_config.h"
               && ($ENV{TEST_NGINX_BINARY} // '') eq '/usr/sbin/nginx';

    my $dir = "$top/t/servroot/000-harness";
    make_path($dir);
    my $so = "$dir/ngx_gw_bad_module.so";
    my $inc = join ' ', map { "-I$tree/$_" }
              qw(src/core src/event src/event/modules src/os/unix objs);
    my $cc = `cc -shared -fPIC -O0 -g $inc -o '$so' t/harness/bad_module.c 2>&1`;
    is($?, 0, 'the module with a heap overflow builds') or diag($cc);

    ($rc, $out) = run_child('t/harness/valgrind-error.tt',
                            TEST_NGINX_USE_VALGRIND => 1,
                            TEST_NGINX_BAD_MODULE => $so);
    isnt($rc, 0, 'valgrind mode fails a block whose nginx writes out of bounds');
    like($out, qr/valgrind: invalid write/, 'and says what valgrind saw');
}

done_testing();
