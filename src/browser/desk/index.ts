// Parley Desk: the inbox page GET /desk serves (src/routes/desk/page.ts). Its #desk element says
// where images may be shown from (data-media-origin, besides this origin).
import { Desk } from "./desk.ts";

const mount = document.getElementById("desk")!;
const mediaOrigins = [location.origin, mount.dataset.mediaOrigin].filter((origin): origin is string => Boolean(origin));
void new Desk(mount, mediaOrigins).start();
