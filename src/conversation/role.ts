import { isServerCredential, type Credential } from "../auth/credential";
import type { Role } from "../enums";
import { forbidden } from "../errors";

/** Only the business's servers act as the app maker: post as it, mark its side read, or type as it. */
export function assertMayActAs(credential: Credential, role: Role, act: "posting" | "reading" | "typing"): void {
  if (role === "appMaker" && !isServerCredential(credential)) {
    throw forbidden(`role: ${act} as appMaker requires a JWT with app scope`);
  }
}
