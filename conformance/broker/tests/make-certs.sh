#!/usr/bin/env bash
# Generates the test PKI of the TLS tests with the openssl command-line tool:
#
#   bash conformance/broker/tests/make-certs.sh OUTDIR
#
# OUTDIR is emptied and filled with (all PEM):
#
#   ca.pem ca.key                  root CA (EC P-256); issues the intermediate and the clients
#   intermediate.pem               intermediate CA (EC P-256); issues the server certificates
#   server-rsa.pem server-rsa.key  server, RSA 2048, CN=localhost, SAN DNS:localhost IP:127.0.0.1
#   server-rsa-chain.pem           server-rsa.pem followed by intermediate.pem (a certfile)
#   server-ec.pem server-ec.key    server, EC P-256, same names; server-ec-chain.pem likewise
#   server-expired-chain.pem/.key  server whose validity ended in 2021 (EC, by the intermediate)
#   client.pem client.key          client, EC, subject C=DE,O=Home,OU=devices,CN=sensor-1
#   client-rsa.pem client-rsa.key  client, RSA 2048, CN=rsa-device
#   client-special.pem/.key        client whose subject needs RFC 2253 escaping: a comma, a '+',
#                                  a leading '#' and UTF-8 (O=Müller, Schmidt + Co; CN=Küche sensor)
#   client-nocn.pem/.key           client without a CN (O=Home,OU=anonymous)
#   client-revoked.pem/.key        client revoked in crl.pem
#   client-expired.pem/.key        client whose validity ended in 2021
#   crl.pem                        the root CA's CRL (revokes client-revoked.pem)
#   rogue-ca.pem rogue-client.pem/.key   an unrelated CA and a client it issued
#   server-encrypted.key           server-ec.key encrypted with the passphrase "secret"
#   capath/                        ca.pem under its subject hash (openssl rehash), for capath
#   subjects.txt                   NAME<TAB>subject as `openssl x509 -nameopt RFC2253` prints it
#
# Every certificate is made fresh on each run (nothing is committed); the whole run takes about
# a second. The CA bookkeeping (index, serial) lives in OUTDIR/ca-db.
set -euo pipefail

if (($# != 1)); then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "${out:?}"/*
cd "$out"

ossl() { openssl "$@" 2>>"$out/openssl.log"; }

ec_key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
rsa_key() { ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"; }

cat >ext.cnf <<'EOF'
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# `openssl ca` for the root, so that certificates with past validity can be issued and revoked
# certificates end up in a CRL.
mkdir -p ca-db
: >ca-db/index.txt
echo 1000 >ca-db/serial
echo 1000 >ca-db/crlnumber
cat >ca.cnf <<EOF
[ca]
default_ca = root

[root]
dir = $out/ca-db
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = $out/ca.pem
private_key = $out/ca.key
default_md = sha256
default_days = 3650
default_crl_days = 3650
policy = anything
unique_subject = no
copy_extensions = none

[anything]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
emailAddress = optional
EOF
cat ext.cnf >>ca.cnf

# issue_by_root NAME SUBJECT EXTENSIONS [extra `openssl ca` arguments...]
issue_by_root() {
    local name=$1 subject=$2 ext=$3
    shift 3
    ossl req -new -key "$name.key" -subj "$subject" -utf8 -out "$name.csr"
    ossl ca -batch -config ca.cnf -notext -utf8 -extensions "$ext" -in "$name.csr" \
        -out "$name.pem" "$@"
}

# issue_by NAME SUBJECT EXTENSIONS ISSUER
issue_by() {
    local name=$1 subject=$2 ext=$3 issuer=$4
    ossl req -new -key "$name.key" -subj "$subject" -utf8 -out "$name.csr"
    ossl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial \
        -days 3650 -sha256 -extfile ext.cnf -extensions "$ext" -out "$name.pem"
}

# Root CA.
ec_key ca.key
ossl req -new -x509 -key ca.key -subj "/O=mqttwire test/CN=mqttwire test root CA" \
    -days 3650 -sha256 -config ext.cnf -extensions ca_ext -out ca.pem

# Intermediate CA and the server chains it issues.
ec_key intermediate.key
issue_by_root intermediate "/O=mqttwire test/CN=mqttwire test intermediate CA" ca_ext
rsa_key server-rsa.key
issue_by server-rsa "/O=mqttwire test/CN=localhost" server_ext intermediate
cat server-rsa.pem intermediate.pem >server-rsa-chain.pem
ec_key server-ec.key
issue_by server-ec "/O=mqttwire test/CN=localhost" server_ext intermediate
cat server-ec.pem intermediate.pem >server-ec-chain.pem

# An expired server certificate: `openssl x509 -req` cannot back-date, so the intermediate signs
# through `openssl ca` with its own small database.
mkdir -p int-db
: >int-db/index.txt
echo 2000 >int-db/serial
sed -e "s|$out/ca-db|$out/int-db|" -e "s|$out/ca.pem|$out/intermediate.pem|" \
    -e "s|$out/ca.key|$out/intermediate.key|" ca.cnf >int.cnf
ec_key server-expired.key
ossl req -new -key server-expired.key -subj "/O=mqttwire test/CN=localhost" -out server-expired.csr
ossl ca -batch -config int.cnf -notext -extensions server_ext -in server-expired.csr \
    -startdate 20200101000000Z -enddate 20210101000000Z -out server-expired.pem
cat server-expired.pem intermediate.pem >server-expired-chain.pem

# Clients, issued by the root.
ec_key client.key
issue_by_root client "/C=DE/O=Home/OU=devices/CN=sensor-1" client_ext
rsa_key client-rsa.key
issue_by_root client-rsa "/O=Home/CN=rsa-device" client_ext
ec_key client-special.key
issue_by_root client-special $'/O=M\xc3\xbcller, Schmidt \\+ Co/OU=#lab/CN=K\xc3\xbcche sensor' client_ext
ec_key client-nocn.key
issue_by_root client-nocn "/O=Home/OU=anonymous" client_ext
ec_key client-revoked.key
issue_by_root client-revoked "/O=Home/CN=stolen-device" client_ext
ec_key client-expired.key
issue_by_root client-expired "/O=Home/CN=old-device" client_ext \
    -startdate 20200101000000Z -enddate 20210101000000Z

ossl ca -batch -config ca.cnf -revoke client-revoked.pem -crl_reason keyCompromise
ossl ca -batch -config ca.cnf -gencrl -out crl.pem

# An unrelated CA and a client certificate it issued.
ec_key rogue-ca.key
ossl req -new -x509 -key rogue-ca.key -subj "/O=Elsewhere/CN=rogue CA" -days 3650 -sha256 \
    -config ext.cnf -extensions ca_ext -out rogue-ca.pem
ec_key rogue-client.key
issue_by rogue-client "/O=Elsewhere/CN=sensor-1" client_ext rogue-ca

ossl pkey -in server-ec.key -aes256 -passout pass:secret -out server-encrypted.key

mkdir -p capath
cp ca.pem capath/ca.pem
ossl rehash capath

for name in client client-rsa client-special client-nocn; do
    printf '%s\t%s\n' "$name" \
        "$(openssl x509 -in "$name.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
done >subjects.txt

rm -f ./*.csr ./*.srl
echo "make-certs: certificates written to $out"
