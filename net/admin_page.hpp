#pragma once
// GET /admin/: a self-contained page (HTML, CSS and JavaScript embedded in
// the binary, nothing fetched from elsewhere) that polls the admin views
// every second and draws each KV pool as a grid of blocks coloured by the
// request that owns them, marking shared blocks, blocks with a
// copy-on-write pending, prefix-cached blocks and free ones.
//
// When the server needs an admin token, open the page as
// /admin/#token=<admin_token>: the fragment never leaves the browser, and
// the page sends it as "Authorization: Bearer" with each view request.

#include <string_view>

namespace pagedserve::net {

std::string_view admin_page_html();

}  // namespace pagedserve::net
