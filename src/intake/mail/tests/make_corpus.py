#!/usr/bin/env python3
"""Writes the sample messages of src/intake/mail/tests/corpus/.

Run once by hand (python3 make_corpus.py) when a sample changes; the .eml files are committed. The
charset bytes come from iconv(1), not from the code under test, and the tests compare against UTF-8
literals written by hand. The PGP blocks are placeholders: the unit tests use a fake KeyRing that
checks which bytes the parser hands it (real gpg is covered by the end-to-end tests).
"""
import base64
import os
import quopri
import subprocess

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def enc(text, charset):
    return subprocess.run(["iconv", "-f", "UTF-8", "-t", charset], input=text.encode("utf-8"),
                          check=True, capture_output=True).stdout


def bword(text, charset):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(enc(text, charset)).decode())


def qword(text, charset):
    out = []
    for b in enc(text, charset):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif b < 128 and c.isalnum():
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "=?%s?Q?%s?=" % (charset, "".join(out))


def pct(data):
    return "".join(chr(b) if (b < 128 and chr(b).isalnum()) or chr(b) in ".-_" else "%%%02X" % b for b in data)


def write(name, data, eol="\n"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    if eol != "\n":
        data = data.replace(b"\n", eol.encode())
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def header(subject, extra=""):
    return ("From: Reporter <reporter@example.org>\n"
            "To: csirt@example.jp\n"
            "Date: Tue, 03 Mar 2026 10:15:00 +0900\n"
            "Message-ID: <sample@example.org>\n"
            "Subject: %s\n%sMIME-Version: 1.0\n" % (subject, extra))


# --- Japanese and other charsets -------------------------------------------------------------
JA_SUBJECT = "不正アクセスの報告"
JA_BODY = "サーバ 192.0.2.10 から攻撃を受けています。\n確認をお願いします。\n"
write("iso2022jp.eml",
      ("From: %s <yamada@example.jp>\nTo: csirt@example.jp\nDate: Tue, 03 Mar 2026 10:15:00 +0900\n"
       "Message-ID: <iso2022jp@example.jp>\nSubject: %s\n %s\nMIME-Version: 1.0\n"
       "Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n"
       % (bword("山田太郎", "ISO-2022-JP"), bword("不正アクセス", "ISO-2022-JP"), bword("の報告", "ISO-2022-JP"))
       ).encode() + enc(JA_BODY, "ISO-2022-JP"))

SJIS_SUBJECT = "フィッシングサイトの表示について"
SJIS_BODY = "偽サイト hxxp://evil[.]example/login の表示を確認しました。ソフト名: 表計算\n"
write("shift_jis.eml",
      (header(bword(SJIS_SUBJECT, "Shift_JIS")) +
       "Content-Type: text/plain; charset=Shift_JIS\nContent-Transfer-Encoding: 8bit\n\n").encode() +
      enc(SJIS_BODY, "SHIFT_JIS"))

EUC_SUBJECT = "マルウェア感染の疑い"
EUC_BODY = "端末が感染した可能性があります。\n"
write("euc_jp.eml",
      (header(qword(EUC_SUBJECT, "EUC-JP")) +
       "Content-Type: text/plain; charset=\"euc-jp\"\nContent-Transfer-Encoding: base64\n\n" +
       base64.encodebytes(enc(EUC_BODY, "EUC-JP")).decode()).encode())

GB_SUBJECT = "网络钓鱼报告"
GB_BODY = "钓鱼网站：http://phish.example/ 字符𠀀测试\n"
write("gb18030.eml",
      (header(bword(GB_SUBJECT, "GB18030")) +
       "Content-Type: text/plain; charset=GB18030\nContent-Transfer-Encoding: quoted-printable\n\n" +
       quopri.encodestring(enc(GB_BODY, "GB18030")).decode()).encode())

write("latin1.eml",
      (header(qword("Café Überfall", "ISO-8859-1")) +
       "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n" +
       quopri.encodestring(enc("Grüße aus München\n", "ISO-8859-1")).decode()).encode())

write("windows1252.eml",
      (header(qword("Preis: 5 €", "WINDOWS-1252")) +
       "Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n").encode() +
      enc("Er sagte: “Zahlen Sie 100 €”\n", "WINDOWS-1252"))

# Raw 8-bit headers without encoded-words: UTF-8, and Shift_JIS (read through the fallback list).
write("raw8bit_utf8.eml",
      header("生のUTF-8件名").encode() + b"Content-Type: text/plain; charset=utf-8\n\n" +
      "本文です。\n".encode())
write("raw8bit_sjis.eml",
      b"From: reporter@example.org\nTo: csirt@example.jp\nSubject: " + enc("生のシフトJIS件名", "SHIFT_JIS") +
      b"\nMIME-Version: 1.0\nContent-Type: text/plain\n\n" + enc("本文はシフトJISです。\n", "SHIFT_JIS"))

# An unknown charset name: kept readable, flagged.
write("unknown_charset.eml",
      header("unknown charset") + "Content-Type: text/plain; charset=x-no-such-charset\n\nplain ascii text\n")

# --- RFC 2231 parameters -------------------------------------------------------------------------
jp_name = enc("報告書_添付資料.txt", "ISO-2022-JP")
half = len(jp_name) // 2
write("rfc2231.eml", (header("RFC 2231 names") +
      "Content-Type: multipart/mixed; boundary=\"b2231\"\n\n"
      "--b2231\nContent-Type: text/plain; charset=us-ascii\n\nSee the attachments.\n"
      "--b2231\nContent-Type: application/octet-stream\n"
      "Content-Disposition: attachment;\n"
      " filename*0*=iso-2022-jp''%s;\n filename*1*=%s\n"
      "Content-Transfer-Encoding: base64\n\n%s"
      "--b2231\nContent-Type: application/pdf; name*=UTF-8''%s\n"
      "Content-Disposition: attachment; filename*=UTF-8''%s\n"
      "Content-Transfer-Encoding: base64\n\n%s"
      "--b2231\nContent-Type: text/plain; name=\"%s\"\n"
      "Content-Disposition: attachment; filename*=iso-8859-1'de'%s\n\nlatin-1 named file\n"
      "--b2231--\n") % (pct(jp_name[:half]), pct(jp_name[half:]),
                        base64.encodebytes(b"first attachment\n").decode(),
                        pct("報告.pdf".encode()), pct("報告.pdf".encode()),
                        base64.encodebytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF\n").decode(),
                        bword("Übersicht.txt", "UTF-8"), pct(enc("Übersicht.txt", "ISO-8859-1"))))

# --- Structures ------------------------------------------------------------------------------------
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
ZIP = base64.b64decode("UEsDBAoAAAAAAAAAIQAAAAAAAAAAAAAAAAAFABwAZW1wdHlVVAkAAwAAAAAAAAAAdXgLAAEE6AMAAAToAwAAUEsBAh4DCgAAAAAAAAAhAAAAAAAAAAAAAAAAAAUAGAAAAAAAAAAAAKSBAAAAAGVtcHR5VVQFAAMAAAAAdXgLAAEE6AMAAAToAwAAUEsFBgAAAAABAAEASwAAAD8AAAAAAA==")
inner = ("From: Original Sender <phisher@bad.example>\nTo: victim@example.jp\n"
         "Subject: Your account is locked\nMessage-ID: <inner@bad.example>\n"
         "Content-Type: text/plain\n\nClick http://bad.example/unlock now.\n")
nested = (header("nested structure",
                 "In-Reply-To: <parent@example.jp>\n"
                 "References: <root@example.jp>\n <parent@example.jp>\n"
                 "Cc: Team <team@example.jp>, Other <Other@Example.NET>\n"
                 "Return-Path: <Bounce@Example.org>\n") +
          "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
          "This is a multi-part message in MIME format.\n"
          "--outer\nContent-Type: multipart/alternative; boundary=\"alt\"\n\n"
          "--alt\nContent-Type: text/plain; charset=utf-8\n\nPlain body: see 198.51.100.7.\n"
          "--alt\nContent-Type: multipart/related; boundary=\"rel\"\n\n"
          "--rel\nContent-Type: text/html; charset=utf-8\n\n<p>HTML body</p>\n"
          "--rel\nContent-Type: image/png\nContent-ID: <logo>\nContent-Transfer-Encoding: base64\n\n" +
          base64.encodebytes(PNG).decode() + "--rel--\n--alt--\n"
          "--outer\nContent-Type: application/zip; name=\"evidence.zip\"\n"
          "Content-Disposition: attachment; filename=\"evidence.zip\"\nContent-Transfer-Encoding: base64\n\n" +
          base64.encodebytes(ZIP).decode() +
          "--outer\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename=\"phish.eml\"\n\n" +
          inner + "--outer--\n")
write("nested.eml", nested)
write("nested_crlf.eml", nested, eol="\r\n")
write("nested_cr.eml", nested, eol="\r")

write("forwarded_only.eml", header("Fwd: Your account is locked") +
      "Content-Type: multipart/mixed; boundary=\"fw\"\n\n--fw\nContent-Type: message/rfc822\n\n" + inner +
      "--fw--\n")

uu = subprocess.run(["python3", "-c", "import binascii,sys\n"
                     "data=b'uuencoded evidence line\\n'\n"
                     "sys.stdout.write(binascii.b2a_uu(data).decode())"],
                    check=True, capture_output=True).stdout.decode()
write("uuencode_cte.eml", header("uuencode transfer encoding") +
      "Content-Type: multipart/mixed; boundary=\"uu\"\n\n--uu\nContent-Type: text/plain\n\nbody text\n"
      "--uu\nContent-Type: application/octet-stream; name=\"log.txt\"\n"
      "Content-Disposition: attachment; filename=\"log.txt\"\nContent-Transfer-Encoding: x-uuencode\n\n"
      "begin 644 log.txt\n" + uu + "`\nend\n--uu--\n")
write("uuencode_inline.eml", header("inline uuencode") +
      "Content-Type: text/plain\n\nThe log is attached below.\n\nbegin 644 attack.log\n" + uu +
      "`\nend\n\nRegards,\nReporter\n")

write("missing_boundary.eml", header("missing boundary") +
      "Content-Type: multipart/mixed\n\npreamble\n--XYZ\nContent-Type: text/plain\n\nfirst part text\n"
      "--XYZ\nContent-Type: text/plain\n\nsecond part text\n--XYZ--\n")
write("missing_subtype.eml", header("missing subtype") +
      "Content-Type: multipart; boundary=\"ms\"\n\n--ms\nContent-Type: text; charset=utf-8\n\n"
      "text without subtype\n--ms--\n")
write("empty_multipart.eml", header("empty multipart") +
      "Content-Type: multipart/mixed; boundary=\"em\"\n\n--em--\n")
write("no_body.eml", header("headers only"))

html = ("<!DOCTYPE html><html><head><title>t</title><style>p { color: red; }</style>"
        "<script>var x = '<p>not text</p>';</script></head>\n<body><h1>Phishing&nbsp;report</h1>"
        "<p>The site <a href=\"http://phish.example/login?a=1&amp;b=2\">click here</a> copies our bank.</p>"
        "<ul><li>first &amp; second</li><li>caf&eacute; &#x65E5;&#26412;</li></ul>"
        "<div>line<br>break</div><!-- hidden comment --><table><tr><td>a</td><td>b</td></tr></table>"
        "</body></html>\n")
write("html_only.eml", header("HTML only") + "Content-Type: text/html; charset=utf-8\n\n" + html)

# --- Automatic mail and spam ------------------------------------------------------------------------
write("auto_submitted.eml", header("Out of office", "Auto-Submitted: auto-replied\n") +
      "Content-Type: text/plain\n\nI am away.\n")
write("precedence_bulk.eml", header("Newsletter", "Precedence: bulk\n") + "Content-Type: text/plain\n\nNews.\n")
write("list_id.eml", header("[list] topic", "List-Id: Security list <sec.lists.example.org>\n") +
      "Content-Type: text/plain\n\nList mail.\n")
write("bounce.eml", ("Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.jp>\n"
                     "To: csirt@example.jp\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
                     "Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\n\n"
                     "--dsn\nContent-Type: text/plain\n\nThe message could not be delivered.\n"
                     "--dsn\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\n"
                     "Final-Recipient: rfc822; nobody@example.jp\nAction: failed\nStatus: 5.1.1\n"
                     "--dsn--\n"))
write("auto_no.eml", header("human", "Auto-Submitted: no\n") + "Content-Type: text/plain\n\nhello\n")
write("spam_flag.eml", header("Cheap pills", "X-Spam-Flag: YES\nX-Spam-Status: Yes, score=12.1\n") +
      "Content-Type: text/plain\n\nBuy now.\n")

# --- PGP (placeholders; see the module comment) -------------------------------------------------------
write("pgp_mime_encrypted.eml", header("encrypted report") +
      "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\n\n"
      "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n"
      "--enc\nContent-Type: application/pgp-encrypted\nContent-Description: PGP/MIME version identification\n\n"
      "Version: 1\n\n"
      "--enc\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n"
      "Content-Description: OpenPGP encrypted message\nContent-Disposition: inline; filename=\"encrypted.asc\"\n\n"
      "-----BEGIN PGP MESSAGE-----\n\nhQEMA0FAKECIPHERTEXT\n=abcd\n-----END PGP MESSAGE-----\n\n--enc--\n")
# LF line endings on purpose: the signed part must reach the keyring with CRLF.
write("pgp_mime_signed.eml", header("signed report") +
      "Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; "
      "boundary=\"sig\"\n\n"
      "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\n"
      "--sig\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
      "Signed body line 1\nSigned body =E2=9C=93 line 2\n"
      "--sig\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n"
      "-----BEGIN PGP SIGNATURE-----\n\niQFAKESIGNATURE\n=wxyz\n-----END PGP SIGNATURE-----\n\n--sig--\n")
write("pgp_inline_encrypted.eml", header("inline encrypted") +
      "Content-Type: text/plain; charset=us-ascii\n\nBefore the block.\n-----BEGIN PGP MESSAGE-----\n\n"
      "hQEMA0INLINECIPHER\n=abcd\n-----END PGP MESSAGE-----\nAfter the block.\n")
write("pgp_inline_signed.eml", header("inline signed") +
      "Content-Type: text/plain; charset=us-ascii\n\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
      "Clear signed text.\n-----BEGIN PGP SIGNATURE-----\n\niQINLINESIG\n=wxyz\n-----END PGP SIGNATURE-----\n")

# --- X-ARF ----------------------------------------------------------------------------------------------
write("xarf02.eml", ("From: abuse-reports@isp.example\nTo: abuse@example.jp\nSubject: abuse report about 192.0.2.99\n"
                     "Date: Mon, 02 Mar 2026 08:00:00 +0000\nMessage-ID: <xarf02@isp.example>\nX-ARF: YES\n"
                     "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"xarf\"\n\n"
                     "--xarf\nContent-Type: text/plain; charset=utf-8\n\nDear abuse team, a host of yours attacked us.\n"
                     "--xarf\nContent-Type: text/plain; charset=utf-8; name=\"report.txt\"\n\n"
                     "---\n# X-ARF report\nReported-From: abuse-reports@isp.example\nCategory: abuse\n"
                     "Report-Type: login-attack\nService: ssh\nVersion: '0.2'\nUser-Agent: \"fail2ban X-ARF 1.0\"\n"
                     "Date: Mon, 02 Mar 2026 07:58:00 +0000\nSource-Type: ipv4\nSource: 192.0.2.99\n"
                     "Port: 22\nSchema-URL: http://www.x-arf.org/schema/abuse_login-attack_0.1.2.json\n"
                     "Attachment: text/plain\nOccurrences: 12\n"
                     "--xarf\nContent-Type: text/plain; charset=utf-8; name=\"logfile.log\"\n\n"
                     "Mar  2 07:58:00 host sshd[1]: Failed password for root from 192.0.2.99 port 51234\n"
                     "--xarf--\n"))
write("xarf4.eml", ("From: reports@honeypot.example\nTo: abuse@example.jp\nSubject: X-ARF v4 report\n"
                    "Date: Mon, 02 Mar 2026 08:00:00 +0000\nMessage-ID: <xarf4@honeypot.example>\n"
                    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"x4\"\n\n"
                    "--x4\nContent-Type: text/plain\n\nAn X-ARF v4 report is attached.\n"
                    "--x4\nContent-Type: application/json; name=\"report.json\"\n"
                    "Content-Disposition: attachment; filename=\"report.json\"\n\n"
                    "{\n  \"xarf_version\": \"4.0.0\",\n  \"report_id\": \"6f1c0e6e-1111-4a5b-9c1d-000000000001\",\n"
                    "  \"timestamp\": \"2026-03-02T07:00:00Z\",\n"
                    "  \"reporter\": {\"org\": \"Honeypot\", \"contact\": \"reports@honeypot.example\", \"domain\": \"honeypot.example\"},\n"
                    "  \"sender\": {\"org\": \"Honeypot\", \"contact\": \"reports@honeypot.example\", \"domain\": \"honeypot.example\"},\n"
                    "  \"source_identifier\": \"203.0.113.45\",\n  \"source_port\": 40022,\n"
                    "  \"category\": \"connection\",\n  \"type\": \"port_scan\"\n}\n"
                    "--x4--\n"))
