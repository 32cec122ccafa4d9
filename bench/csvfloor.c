/* csvfloor.c - the ingest floor: one bare libcsv pass over a file, counting
 * rows and fields and summing the first field's bytes (so that nothing is
 * optimised away). No validation, no storage: what `ota-rollout plan` can
 * never beat. Usage: csvfloor FILE */
#include <csv.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct counts {
    unsigned long rows;
    unsigned long fields;
    unsigned long col;
    unsigned long name_bytes;
};

static void on_field(void *s, size_t len, void *data)
{
    struct counts *c = data;

    (void)s;
    if (c->col == 0)
        c->name_bytes += len;
    c->col++;
    c->fields++;
}

static void on_row(int ch, void *data)
{
    struct counts *c = data;

    (void)ch;
    c->col = 0;
    c->rows++;
}

int main(int argc, char **argv)
{
    static char block[1 << 20];
    struct csv_parser p;
    struct counts c = {0, 0, 0, 0};
    ssize_t n = 0;
    int fd = -1;

    if (argc != 2) {
        fprintf(stderr, "usage: csvfloor FILE\n");
        return 2;
    }
    fd = open(argv[1], O_RDONLY);
    if (fd < 0 || csv_init(&p, CSV_APPEND_NULL) != 0) {
        perror(argv[1]);
        return 1;
    }
    while ((n = read(fd, block, sizeof(block))) > 0) {
        if (csv_parse(&p, block, (size_t)n, on_field, on_row, &c) !=
            (size_t)n) {
            fprintf(stderr, "csvfloor: %s\n", csv_strerror(csv_error(&p)));
            return 1;
        }
    }
    csv_fini(&p, on_field, on_row, &c);
    csv_free(&p);
    close(fd);
    printf("rows %lu fields %lu name_bytes %lu\n", c.rows, c.fields,
           c.name_bytes);
    return 0;
}
