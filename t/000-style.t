# scripts/check-style passes on the tree and fails on each thing it checks.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

my $dir = tempdir(CLEANUP => 1);

sub check {
    my ($name, $code) = @_;
    my $file = "$dir/$name.c";
    open my $fh, '>', $file or die $!;
    print $fh $code;
    close $fh;
    my $out = `scripts/check-style '$file' 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = (system('scripts/check-style') >> 8, '');
is($rc, 0, 'the tree passes');

my $good = "static ngx_int_t\nf(ngx_pool_t *pool)\n{\n    u_char  *p;\n\n"
           . "    p = ngx_pnalloc(pool, 8);\n    if (p == NULL) {\n"
           . "        return NGX_ERROR;\n    }\n\n"
           . "    /* \"http://\" in a comment is fine */\n"
           . "    ngx_str_t s = ngx_string(\"http://x\");\n\n"
           . "    return NGX_OK;\n}\n";
($rc, $out) = check('good', $good);
is($rc, 0, 'checked allocations, URLs in strings and comments pass')
    or diag($out);

my %bad = (
    tab => ["int\nf(void)\n{\n\treturn 0;\n}\n", qr/:4: tab/],
    slashes => ["int\nf(void)\n{\n    return 0; // no\n}\n",
                qr/:4: \/\/ comment/],
    long => ["/* " . ('x' x 80) . " */\n", qr/:1: longer than 80 columns/],
    trailing => ["int x; \n", qr/:1: trailing blank/],
    unchecked => ["void\nf(ngx_pool_t *pool)\n{\n    u_char  *p;\n\n"
                  . "    p = ngx_palloc(pool, 8);\n    p[0] = 0;\n}\n",
                  qr/:6: "p" is not checked on the next line/],
    push => ["void\nf(ngx_array_t *a)\n{\n    ngx_str_t  *s;\n\n"
             . "    s = ngx_array_push(a);\n\n    if (s == NULL) {\n"
             . "        return;\n    }\n}\n",
             qr/:6: "s" is not checked on the next line/],
);

for my $name (sort keys %bad) {
    ($rc, $out) = check($name, $bad{$name}[0]);
    isnt($rc, 0, "a file with a $name problem fails");
    like($out, $bad{$name}[1], "and the line is named ($name)");
}

done_testing();
