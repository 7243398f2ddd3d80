/* UDP flood for bench/capture.sh (issue 12), compiled at bench time with cc.
 *
 *   flood send ADDR PORT SECS RATE [SIZE]   datagrams of SIZE bytes (64) for SECS seconds with
 *                                            sendmmsg; RATE packets/s, 0 = as fast as possible.
 *                                            Prints "sent N in S s R pps".
 *   flood sink PORT                          binds UDP PORT and never reads: the datagrams are
 *                                            dropped at the full socket queue (no ICMP, no CPU).
 * Paced: batches of 8, sleeping until each batch is due (no spinning on a shared core).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
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

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "sink") == 0) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        int small = 4096;
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
        if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
        printf("sink ready\n");
        fflush(stdout);
        for (;;) pause();
    }
    if (argc < 6 || strcmp(argv[1], "send") != 0) {
        fprintf(stderr, "usage: flood send ADDR PORT SECS RATE [SIZE] | flood sink PORT\n");
        return 2;
    }
    double secs = atof(argv[4]), rate = atof(argv[5]);
    int size = argc > 6 ? atoi(argv[6]) : 64;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &a.sin_addr);
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
    enum { MAXB = 32 };
    int batch = rate > 0 ? 8 : MAXB;
    static char payload[65536];
    memset(payload, 0x55, sizeof payload);
    struct iovec iov[MAXB];
    struct mmsghdr msgs[MAXB];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < MAXB; i++) {
        iov[i].iov_base = payload;
        iov[i].iov_len = size;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned long long sent = 0;
    double start = now(), end = start + secs, t = start;
    while (t < end) {
        int n = sendmmsg(s, msgs, batch, 0);
        if (n > 0) sent += n;
        else usleep(50); /* ENOBUFS and the like: let the queue drain */
        t = now();
        if (rate > 0) {
            double due = start + sent / rate;
            if (due > t + 0.0002) {
                struct timespec d = {(time_t)(due - t), (long)((due - t - (time_t)(due - t)) * 1e9)};
                nanosleep(&d, NULL);
                t = now();
            }
        }
    }
    double el = now() - start;
    printf("sent %llu in %.3f s %.0f pps\n", sent, el, sent / el);
    return 0;
}
