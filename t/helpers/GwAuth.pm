package GwAuth;

# Keys and tokens for the ngx_gw_auth tests, made at test time:
#
#   use FindBin; use lib "$FindBin::Bin/helpers"; use GwAuth;
#
# On load, makes RSA, EC (P-256, P-384, P-521) and Ed25519 key pairs with
# openssl and a JWKS file of their public halves in a temporary directory,
# exported as TEST_NGINX_AUTH_DIR:
#
#   rsa.pub rsa2.pub rsa1024.pub ec256.pub ec384.pub ec521.pub ed25519.pub
#   jwks.json (kids "rsa", "ec256", "ed", "oct")   hs.secret
#
# and TEST_NGINX_HS_SECRET (64 bytes, good for HS256/384/512).
#
# In a block, from an "eval" section (package Test::Base::Filter):
#
#   GwAuth::jwt('RS256', { sub => 'alice' })            exp = now + 1h
#   GwAuth::jwt('ES256', { sub => 'a' }, kid => 'ec256', key => 'ec256')
#   GwAuth::raw_hs('HS256', $header_json, $payload_json)  any JSON text
#   GwAuth::b64url($bytes)
#
# Asymmetric tokens are signed by /usr/bin/python3 with python3-jwt; HMAC
# tokens by Digest::SHA.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512 sha256_hex);
use File::Temp qw(tempdir);
use JSON::PP ();
use MIME::Base64 qw(encode_base64);

my $dir = tempdir('gw-auth-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $secret = join '', map { chr(ord('a') + $_ % 26) } 0 .. 63;
my $json = JSON::PP->new->canonical;

my %default_key = (
    RS256 => 'rsa', RS384 => 'rsa', RS512 => 'rsa',
    PS256 => 'rsa', PS384 => 'rsa', PS512 => 'rsa',
    ES256 => 'ec256', ES384 => 'ec384', ES512 => 'ec521',
    EdDSA => 'ed25519',
);

$ENV{TEST_NGINX_AUTH_DIR} = $dir;
$ENV{TEST_NGINX_HS_SECRET} = $secret;

make_keys();


sub run {
    my (@cmd) = @_;
    system(@cmd) == 0 or die "GwAuth: @cmd failed\n";
}


sub make_keys {
    my %gen = (
        rsa => [qw(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)],
        rsa2 => [qw(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)],
        rsa1024 => [qw(-algorithm RSA -pkeyopt rsa_keygen_bits:1024)],
        ec256 => [qw(-algorithm EC -pkeyopt ec_paramgen_curve:P-256)],
        ec384 => [qw(-algorithm EC -pkeyopt ec_paramgen_curve:P-384)],
        ec521 => [qw(-algorithm EC -pkeyopt ec_paramgen_curve:P-521)],
        ed25519 => [qw(-algorithm ed25519)],
    );

    for my $name (sort keys %gen) {
        run('openssl', 'genpkey', @{ $gen{$name} }, '-out', "$dir/$name.key",
            '-quiet');
        run('openssl', 'pkey', '-in', "$dir/$name.key", '-pubout',
            '-out', "$dir/$name.pub");
    }

    open my $fh, '>', "$dir/hs.secret" or die;
    print $fh "$secret\n";
    close $fh;

    open $fh, '>', "$dir/mint.py" or die;
    print $fh <<'PY';
import json, sys, jwt
alg, keyfile, header, payload = sys.argv[1:5]
with open(keyfile, 'rb') as f:
    key = f.read()
print(jwt.encode(json.loads(payload), key, algorithm=alg,
                 headers=json.loads(header)))
PY
    close $fh;

    open $fh, '>', "$dir/jwks.py" or die;
    print $fh <<'PY';
import json, sys
from jwt.algorithms import RSAAlgorithm, ECAlgorithm, OKPAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key
d, secret = sys.argv[1:3]
def load(name):
    with open('%s/%s.pub' % (d, name), 'rb') as f:
        return load_pem_public_key(f.read())
keys = []
k = json.loads(RSAAlgorithm.to_jwk(load('rsa'))); k['kid'] = 'rsa'
k['alg'] = 'RS256'; k['use'] = 'sig'; keys.append(k)
k = json.loads(ECAlgorithm.to_jwk(load('ec256'))); k['kid'] = 'ec256'
keys.append(k)
k = json.loads(OKPAlgorithm.to_jwk(load('ed25519'))); k['kid'] = 'ed'
keys.append(k)
k = json.loads(RSAAlgorithm.to_jwk(load('rsa2'))); k['kid'] = 'enc'
k['use'] = 'enc'; keys.append(k)
import base64
k = {'kty': 'oct', 'kid': 'oct', 'alg': 'HS512',
     'k': base64.urlsafe_b64encode(secret.encode()).decode().rstrip('=')}
keys.append(k)
print(json.dumps({'keys': keys}))
PY
    close $fh;

    my $out = `/usr/bin/python3 $dir/jwks.py $dir $secret`;
    die "GwAuth: jwks.py failed\n" if $?;
    open $fh, '>', "$dir/jwks.json" or die;
    print $fh $out;
    close $fh;
}


sub b64url {
    my ($data) = @_;
    my $s = encode_base64($data, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+\z//;
    return $s;
}


sub raw_hs {
    my ($alg, $header, $payload, $key) = @_;
    my %mac = (HS256 => \&hmac_sha256, HS384 => \&hmac_sha384,
               HS512 => \&hmac_sha512);
    my $input = b64url($header) . '.' . b64url($payload);
    return $input . '.' . b64url($mac{$alg}->($input, $key // $secret));
}


sub jwt {
    my ($alg, $claims, %opt) = @_;

    my %claims = %{ $claims || {} };
    $claims{exp} //= time + 3600 unless $opt{no_exp};

    my %header = (alg => $alg, typ => 'JWT', %{ $opt{header} || {} });
    $header{kid} = $opt{kid} if defined $opt{kid};

    if ($alg =~ /^HS/) {
        return raw_hs($alg, $json->encode(\%header), $json->encode(\%claims),
                      $opt{secret});
    }

    my $key = "$dir/" . ($opt{key} // $default_key{$alg}) . ".key";
    delete $header{alg};

    open my $py, '-|', '/usr/bin/python3', "$dir/mint.py", $alg, $key,
        $json->encode(\%header), $json->encode(\%claims)
        or die "GwAuth: python3: $!\n";
    my $token = <$py>;
    close $py or die "GwAuth: mint.py failed\n";
    chomp $token;
    return $token;
}


# a key for scripts/gw-apikey-style files: returns (key, "sha256:<hex>")
sub apikey_hash {
    my ($key) = @_;
    return 'sha256:' . sha256_hex($key);
}


1;
