# Parts copied as sent are checked by the module's own JSON validator: it
# must accept exactly what a strict JSON parser (JSON::PP) accepts.  Random
# JSON texts, some of them broken, go through a part; a fixed seed keeps
# the run repeatable.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use JSON::PP;
use Test::Nginx::Socket 'no_plan';

our $Cases = 400;

sub random_text {
    my @atoms = ('0', '-0', '1.5', '-2e10', '1E+2', '01', '1.', '.5', '-',
                 'true', 'false', 'null', 'tru', 'nul', '"a"', '"\\n"',
                 '"\\u00e9"', '"\\u12g4"', '"\\x"', "\"\xc3\xa9\"",
                 "\"\xff\"", "\"\xe2\x82\"", "\"a\tb\"", '""', '"\\"');
    my $gen;
    $gen = sub {
        my ($d) = @_;
        my $r = rand;
        return $atoms[rand @atoms] if $d > 3 || $r < 0.4;
        my @e = map { $gen->($d + 1) } 0 .. int(rand 3);
        return '[' . join(',', @e) . ']' if $r < 0.7;
        return '{' . join(',', map { "\"k$_\":$e[$_]" } 0 .. $#e) . '}';
    };
    my $s = $gen->(0);
    my $r = rand;
    return $s if $r < 0.5;
    my $p = int(rand(length($s) + 1));
    my @ins = (',', ']', '}', '[', '{', ':', ' ', '"', "\x00", 'x', "\n");
    return substr($s, 0, $p) . $ins[rand @ins] . substr($s, $p) if $r < 0.8;
    # a deletion: of the character at $p, if there is one
    return $s if $p >= length($s);
    return substr($s, 0, $p) . substr($s, $p + 1);
}

sub check_all {
    my $js = JSON::PP->new->utf8->allow_nonref;
    my ($n, $bad, $notjson) = (0, 0, 0);
    srand(20261204);
    while ($n < $Cases) {
        my $text = random_text();
        next if $text eq '';
        $n++;
        my $strict = eval { $js->decode($text); 1 } ? 1 : 0;
        my $r = http_request('POST', '/t', {}, $text);
        my $parts = $r->{headers}{'x-gw-compose-parts'} // '';
        my $copied = $parts eq 'x=200' ? 1 : 0;
        if ($copied != $strict) {
            $bad++;
            Test::More::diag("JSON::PP says $strict, gw_compose says $copied"
                             . " ($parts) for: " . unpack('H*', $text));
        }
        $notjson++ if $copied && !eval { $js->decode($r->{body}); 1 };
    }
    Test::More::is($bad, 0, "$n texts: the validator agrees with JSON::PP");
    Test::More::is($notjson, 0, 'every response built from them is JSON');
}

run_tests();

__DATA__

=== TEST 1: the validator of parts copied as sent agrees with a strict parser
--- config
client_body_buffer_size 64k;
location = /t {
    gw_compose;
    gw_compose_part x /_echo method=POST optional;
}
location = /_echo {
    echo_read_request_body;
    echo -n $echo_request_body;
}
--- init
main::check_all();
--- request
GET /_echo
--- response_body:
