/*
 * confsock.h: tendctl finds the socket from a config file without
 * validating the rest of it (a broken program section must not keep an
 * operator from reaching tendd).
 */
#ifndef TEND_CONFSOCK_H
#define TEND_CONFSOCK_H

/*
 * The socket path FILE configures: [tend] socket, else [supervisord]-era
 * [unix_http_server] file, else protocol_default_socket(). Relative paths
 * and %(here)s resolve against the file's directory, as tendd does.
 * Returns an allocated path, or NULL with an allocated *cause when FILE
 * cannot be read ("cannot read /x/tend.conf: No such file or directory").
 */
char	*confsock_read(const char *file, char **cause);

#endif
