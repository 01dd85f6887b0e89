// Reset flood generator for scripts/bench/reset-flood.mjs: sends TCP SYNs from a raw socket to a closed port on
// 127.0.0.1 at RATE per second for SECONDS; the kernel answers each with a RST (reason NO_SOCKET). Run it inside
// a network namespace of its own. Prints the number of SYNs sent and the seconds it took.
// Usage: rst-flood RATE SECONDS [PORT]
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static uint16_t csum(const void *data, size_t len, uint32_t sum) {
  const uint16_t *p = data;
  for (; len > 1; len -= 2) sum += *p++;
  if (len) sum += *(const uint8_t *)p;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rst-flood RATE SECONDS [PORT]\n");
    return 2;
  }
  double rate = atof(argv[1]), secs = atof(argv[2]);
  int port = argc > 3 ? atoi(argv[3]) : 9;
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct {
    struct iphdr ip;
    struct tcphdr tcp;
  } pkt;
  memset(&pkt, 0, sizeof pkt);
  pkt.ip.version = 4;
  pkt.ip.ihl = 5;
  pkt.ip.tot_len = htons(sizeof pkt);
  pkt.ip.ttl = 64;
  pkt.ip.protocol = IPPROTO_TCP;
  pkt.ip.saddr = pkt.ip.daddr = htonl(INADDR_LOOPBACK);
  pkt.tcp.dest = htons(port);
  pkt.tcp.doff = 5;
  pkt.tcp.syn = 1;
  pkt.tcp.window = htons(1024);
  // Pseudo-header sum (addresses, protocol, TCP length), added to each segment's own sum.
  uint32_t pseudo = (pkt.ip.saddr & 0xffff) + (pkt.ip.saddr >> 16) + (pkt.ip.daddr & 0xffff) + (pkt.ip.daddr >> 16) +
                    htons(IPPROTO_TCP) + htons(sizeof pkt.tcp);
  long sent = 0;
  double start = now(), end = start + secs;
  for (double t = start; t < end; t = now()) {
    long due = (long)((t - start) * rate);
    for (; sent < due; sent++) {
      pkt.tcp.source = htons(1024 + sent % 64000);
      pkt.tcp.seq = htonl((uint32_t)sent);
      pkt.tcp.check = 0;
      pkt.tcp.check = csum(&pkt.tcp, sizeof pkt.tcp, pseudo);
      if (sendto(fd, &pkt, sizeof pkt, 0, (struct sockaddr *)&dst, sizeof dst) < 0) {
        perror("sendto");
        return 1;
      }
    }
    usleep(200);
  }
  printf("%ld %.3f\n", sent, now() - start);
  return 0;
}
