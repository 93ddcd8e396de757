#include <pcap/pcap.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
