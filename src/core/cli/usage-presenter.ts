/**
 * How the CLI answers a wrong invocation: the line that is wrong and where to read more, not the
 * whole help (an operator at 3 a.m. should not have to find the error below a screen of flags).
 * Help and the version are shown as effect/cli shows them.
 */
import { Console, Effect } from "effect"
import { CliOutput } from "effect/cli"

export const usagePresenter: CliOutput.Presenter = {
  present: (event) => {
    if (event._tag !== "InvalidInvocation") return CliOutput.defaultPresenter.present(event)
    const command = ["breakwater", ...event.commandPath.slice(1)].join(" ")
    return Effect.gen(function* () {
      for (const error of event.errors) yield* Console.error(`${command}: ${error.message}`)
      yield* Console.error(`Run \`${command} --help\` for its usage.`)
    })
  }
}
