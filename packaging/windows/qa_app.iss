; Inno Setup 6 script for the Windows installer of qa-app.
; Do not run it by hand: `python packaging\build.py` builds dist\qa-app\ with PyInstaller and then
; calls iscc with the identity from qa_app\__init__.py, e.g.
;   iscc /DAppName=qa-app /DAppId=org.qa_app.QAApp /DAppDisplayName="QA App" /DAppVersion=0.1.0
;        /DAppPublisher=qa-app /DAppDescription="..." /DSourceDir=dist\qa-app /DOutputDir=dist
;        /DSetupIcon=packaging\icons\qa-app.ico
;        packaging\windows\qa_app.iss
; so that nothing here repeats the name, id or version.

#ifndef AppName
  #error Run through packaging\build.py (AppName and the other /D defines are missing)
#endif

[Setup]
; The app id is a reverse-DNS string, not a GUID: Inno accepts any text, and upgrades match on it.
AppId={#AppId}
AppName={#AppDisplayName}
AppVersion={#AppVersion}
AppVerName={#AppDisplayName} {#AppVersion}
AppPublisher={#AppPublisher}
AppComments={#AppDescription}
VersionInfoVersion={#AppVersion}
VersionInfoDescription={#AppDescription}
; Per-user install under %LOCALAPPDATA%\Programs, no administrator rights needed (like the Linux
; install.sh); an administrator may still choose "install for all users".
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\{#AppDisplayName}
DefaultGroupName={#AppDisplayName}
DisableProgramGroupPage=yes
UninstallDisplayIcon={app}\{#AppName}-gui.exe
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-setup
SetupIconFile={#SetupIcon}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Setup offers to add the folder holding qa-app.exe to the user's PATH (task "addtopath" below).
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the qa-app command to PATH (for the command line)"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppDisplayName}"; Filename: "{app}\{#AppName}-gui.exe"; Comment: "{#AppDescription}"
Name: "{autodesktop}\{#AppDisplayName}"; Filename: "{app}\{#AppName}-gui.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\{#AppName}-gui.exe"; Description: "{cm:LaunchProgram,{#AppDisplayName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; The program folder only: the user's libraries live in %LOCALAPPDATA%\{#AppPublisher} and are kept.
Type: filesandordirs; Name: "{app}"

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Current: string;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Current) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;
