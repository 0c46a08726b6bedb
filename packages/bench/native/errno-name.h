/* Socket errors named as Node names them, so failure messages match the Node client's. */
#pragma once

const char *errno_name(int e);
