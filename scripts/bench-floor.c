/* The libpcap floor: read every packet of a capture with pcap_next_ex and nothing else. */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv) {
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) { fprintf(stderr, "usage: %s FILE\n", argv[0]); return 2; }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) { fprintf(stderr, "%s\n", err); return 2; }
    struct pcap_pkthdr *h; const u_char *d;
    unsigned long long n = 0, bytes = 0, sum = 0;
    while (pcap_next_ex(p, &h, &d) == 1) { n++; bytes += h->caplen; sum += d[0]; }
    printf("%llu packets %llu bytes %llu\n", n, bytes, sum);
    pcap_close(p);
    return 0;
}
